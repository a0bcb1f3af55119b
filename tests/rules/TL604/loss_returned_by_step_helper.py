"""A trainer's `train_step` backpropagates its losses and returns them as a named tuple;
the epoch loop unpacks the tuple and sums the tensors into running totals, so every
iteration's graph stays referenced from the totals."""

from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Losses = namedtuple("Losses", ["cls", "reg", "total"])


class Trainer:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def train_step(self, x, y, target):
        self.optimizer.zero_grad()
        out = self.model(x)
        cls = F.cross_entropy(out[:, :3], y)
        reg = F.mse_loss(out[:, 3], target)
        losses = Losses(cls, reg, cls + reg)
        losses.total.backward()
        self.optimizer.step()
        return losses


model = nn.Linear(8, 4)
trainer = Trainer(model)
cls_sum = 0
total_sum = 0
for i in range(20):
    x, y, t = torch.randn(16, 8), torch.randint(0, 3, (16,)), torch.randn(16)
    out = trainer.train_step(x, y, t)
    cls, reg, total = out
    cls_sum += cls  # TL604
    total_sum += total  # TL604
    print(total_sum.item() / (i + 1))
