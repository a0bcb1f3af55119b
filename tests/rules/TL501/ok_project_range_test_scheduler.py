"""A learning-rate range test written in the project: its own scheduler grows the rate
exponentially from the optimizer's tiny starting rate (the `--base_lr` default) up to
`max_lr`, so 1e-7 is the floor of a sweep, not the rate training runs at."""

import argparse

import torch
import torch.nn as nn
from torch import optim
from torch.optim.lr_scheduler import _LRScheduler


class FindLR(_LRScheduler):
    def __init__(self, optimizer, max_lr=10, num_iter=100, last_epoch=-1):
        self.total_iters = num_iter
        self.max_lr = max_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * (self.max_lr / b) ** (self.last_epoch / self.total_iters) for b in self.base_lrs]


parser = argparse.ArgumentParser()
parser.add_argument("-base_lr", type=float, default=1e-7)
parser.add_argument("-max_lr", type=float, default=10)
args = parser.parse_args()

net = nn.Linear(8, 2)
optimizer = optim.SGD(net.parameters(), lr=args.base_lr, momentum=0.9)
scheduler = FindLR(optimizer, max_lr=args.max_lr)
for step in range(100):
    optimizer.zero_grad()
    loss = net(torch.randn(4, 8)).sum()
    loss.backward()
    optimizer.step()
    scheduler.step()
