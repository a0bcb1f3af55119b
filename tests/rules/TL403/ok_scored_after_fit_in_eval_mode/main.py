import torch

from pairs import PairTrainer

pairs = [(torch.randn(4, 16), torch.randn(4, 16)) for _ in range(8)]
targets = [torch.rand(4, 1) for _ in range(8)]
trainer = PairTrainer(pairs, targets)
trainer.fit(epochs=2)  # puts the model in training mode, in another file
print(trainer.score())
