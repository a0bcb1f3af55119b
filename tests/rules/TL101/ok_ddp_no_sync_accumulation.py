"""Gradient accumulation under DDP: `no_sync()` skips the all-reduce on the micro-batches,
and the gradients are cleared after each real step."""

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

model = DDP(nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 10), torch.randint(0, 3, (8,))) for _ in range(8)]
accum = 4
for i, (x, y) in enumerate(data):
    sync = (i + 1) % accum == 0
    with contextlib.nullcontext() if sync else model.no_sync():
        loss = F.cross_entropy(model(x), y) / accum
        loss.backward()
    if sync:
        optimizer.step()
        optimizer.zero_grad()
