"""A batch helper divides its loss for gradient accumulation, backpropagates the scaled copy and
returns the loss itself; the epoch loop sums what it returns, so every batch's graph stays
referenced from the total."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model: nn.Module, accumulation: int = 2) -> None:
        self.model = model
        self.accumulation = accumulation
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def _train_batch(self, x, y, update):
        batch_loss = F.cross_entropy(self.model(x), y)
        scaled = batch_loss / self.accumulation
        scaled.backward()
        if update:
            self.optimizer.step()
            self.optimizer.zero_grad()
        return batch_loss

    def train_epoch(self, batches):
        epoch_loss = 0
        for i, (x, y) in enumerate(batches):
            batch_loss = self._train_batch(x, y, update=i % self.accumulation == 0)
            epoch_loss += batch_loss  # TL604
        return epoch_loss


trainer = Trainer(nn.Linear(8, 3))
print(trainer.train_epoch([(torch.randn(4, 8), torch.randint(0, 3, (4,))) for _ in range(10)]))
