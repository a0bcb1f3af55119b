"""The batch helper backpropagates a scaled loss and returns the loss as a number, or the
factor it scaled by: the epoch total holds no graph."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model: nn.Module, accumulation: int = 2) -> None:
        self.model = model
        self.accumulation = accumulation
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def _train_batch(self, x, y):
        batch_loss = F.cross_entropy(self.model(x), y)
        scaled = batch_loss / self.accumulation
        scaled.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return batch_loss.item()

    def _weighted_batch(self, x, y):
        weight = x.size(0) / 16
        scaled = F.cross_entropy(self.model(x), y) * weight
        scaled.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return weight

    def train_epoch(self, batches):
        epoch_loss = 0
        seen = 0
        for x, y in batches:
            epoch_loss += self._train_batch(x, y)
            seen += self._weighted_batch(x, y)
        return epoch_loss / seen


trainer = Trainer(nn.Linear(8, 3))
print(trainer.train_epoch([(torch.randn(4, 8), torch.randint(0, 3, (4,))) for _ in range(10)]))
