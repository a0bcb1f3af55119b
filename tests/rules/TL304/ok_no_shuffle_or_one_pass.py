"""Silent: a sampler asked not to shuffle (the same order is what was asked for), and a
loader read in a single pass (no second epoch to repeat the order)."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

data = TensorDataset(torch.load("x.pt"), torch.load("y.pt"))
model = nn.Linear(8, 1)
opt = torch.optim.Adam(model.parameters())

ordered = DataLoader(data, batch_size=32, sampler=DistributedSampler(data, shuffle=False))
for epoch in range(5):
    for x, y in ordered:
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()

once = DataLoader(data, batch_size=32, sampler=DistributedSampler(data))
for x, y in once:
    opt.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    opt.step()
