"""The training framework: `train_model` switches to training mode and trains; `infer`, which
users call on a fresh or just-trained framework, sets no mode."""

import torch
import torch.nn as nn


class BagRE(nn.Module):
    def __init__(self, model: nn.Module, loader, epochs: int = 3) -> None:
        super().__init__()
        self.model = model
        self.loader = loader
        self.epochs = epochs
        self.optimizer = torch.optim.SGD(self.parameters(), lr=0.1)

    def train_model(self) -> None:
        for _ in range(self.epochs):
            self.train()
            for x, y in self.loader:
                loss = nn.functional.cross_entropy(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()

    def infer(self, bag: torch.Tensor) -> int:
        logits = self.model(bag)  # TL403
        return int(logits.mean(0).argmax().item())
