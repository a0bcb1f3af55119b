"""A trainer steps several optimizers from a helper; an optimizer whose parameters are frozen
for a while has its gradients cleared instead of applied. The clear and the step are the two
arms of one `if`: no optimizer is cleared and then stepped."""

import torch
import torch.nn as nn


class TrainingManager:
    def __init__(self, model: nn.Module) -> None:
        self.embed_opt = torch.optim.Adam(model[0].parameters(), lr=1e-3)
        self.body_opt = torch.optim.SGD(model[1].parameters(), lr=0.02, momentum=0.95)
        self.optimizers = [self.embed_opt, self.body_opt]
        self.frozen_for = {id(self.embed_opt): 10, id(self.body_opt): 0}

    def step_optimizers(self) -> None:
        for opt in self.optimizers:
            if self.frozen_for[id(opt)] > 0:
                self.frozen_for[id(opt)] -= 1
                opt.zero_grad(set_to_none=True)  # ok: this optimizer is not stepped
            else:
                opt.step()
                opt.zero_grad(set_to_none=True)


model = nn.Sequential(nn.Embedding(100, 32), nn.Linear(32, 100))
manager = TrainingManager(model)
for tokens in torch.load("batches.pt"):
    logits = model(tokens[:, :-1])
    nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()).backward()
    manager.step_optimizers()
