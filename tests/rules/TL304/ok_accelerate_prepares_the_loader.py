"""Accelerate's `prepare` takes the loader over and sets its sampler's epoch itself."""

import torch
import torch.nn as nn
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

accelerator = Accelerator()
data = TensorDataset(torch.load("x.pt"), torch.load("y.pt"))
loader = DataLoader(data, batch_size=32, sampler=DistributedSampler(data))
model = nn.Linear(8, 1)
opt = torch.optim.Adam(model.parameters())
model, opt, loader = accelerator.prepare(model, opt, loader)
for epoch in range(5):
    for x, y in loader:
        opt.zero_grad()
        accelerator.backward(nn.functional.mse_loss(model(x), y))
        opt.step()
