"""A relation-extraction framework module: `train_model` calls `self.train()` and trains the
model it holds, while `infer` runs that model without setting any mode (a new framework, or one
fresh from training, predicts with dropout on). The second framework's `infer` switches to eval
mode itself."""

import torch
import torch.nn as nn


class BagFramework(nn.Module):
    def __init__(self, model: nn.Module, loader, epochs: int = 3) -> None:
        super().__init__()
        self.model = nn.DataParallel(model)
        self.loader = loader
        self.epochs = epochs
        self.optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        self.criterion = nn.CrossEntropyLoss()

    def train_model(self) -> None:
        for _ in range(self.epochs):
            self.train()
            for x, y in self.loader:
                loss = self.criterion(self.model(x), y)
                loss.backward()
                self.optimizer.step()
                self.optimizer.zero_grad()

    def infer(self, bag: torch.Tensor) -> int:
        logits = self.model(bag)  # TL403
        return int(logits.argmax(-1).item())


class CarefulFramework(BagFramework):
    def infer(self, bag: torch.Tensor) -> int:
        self.eval()
        logits = self.model(bag)  # ok: eval mode set first
        return int(logits.argmax(-1).item())
