"""AverageMeters fed numbers: `loss.item()`, an accuracy computed with `.item()`, and meters
that take the number themselves (`val.item()` inside, or `v = v.data.sum()` before adding)
are all fine; a logger whose `update` only stores the last value keeps no history."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class AverageMeter:
    def __init__(self):
        self.sum = 0.0
        self.count = 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n


class ItemMeter:
    def __init__(self):
        self.sum = 0.0

    def update(self, val):
        self.sum += val.item()


class Averager:
    def __init__(self):
        self.sum = 0
        self.count = 0

    def add(self, v):
        self.count += v.data.numel()
        v = v.data.sum()
        self.sum += v


class LastValue:
    def update(self, val):
        self.last = val


model = nn.Linear(16, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses, accuracy, items, last = AverageMeter(), AverageMeter(), ItemMeter(), LastValue()
averager = Averager()
for step in range(20):
    x, y = torch.randn(8, 16), torch.randint(0, 4, (8,))
    out = model(x)
    loss = F.cross_entropy(out, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.update(loss.item(), x.size(0))
    accuracy.update((out.argmax(1) == y).float().mean().item(), x.size(0))
    items.update(loss)
    last.update(loss)
    averager.add(loss)
print(losses.sum / losses.count)
