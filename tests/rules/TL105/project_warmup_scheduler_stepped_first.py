"""A warm-up schedule written in the project (`class WarmupMultiStepLR(_LRScheduler)`),
built by a factory, stepped at the top of every iteration before `optimizer.step()`."""

from bisect import bisect_right

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import _LRScheduler


class WarmupMultiStepLR(_LRScheduler):
    def __init__(self, optimizer, milestones, gamma=0.1, warmup_iters=500, last_epoch=-1):
        self.milestones = milestones
        self.gamma = gamma
        self.warmup_iters = warmup_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        warmup = min(1.0, (self.last_epoch + 1) / self.warmup_iters)
        return [base * warmup * self.gamma ** bisect_right(self.milestones, self.last_epoch) for base in self.base_lrs]


def make_lr_scheduler(optimizer):
    return WarmupMultiStepLR(optimizer, milestones=[8000, 11000])


model = nn.Linear(10, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = make_lr_scheduler(optimizer)
for iteration in range(12000):
    scheduler.step()  # TL105
    x, y = torch.randn(8, 10), torch.randint(0, 2, (8,))
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
