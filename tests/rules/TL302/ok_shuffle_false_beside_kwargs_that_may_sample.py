"""`shuffle=False` beside `**kwargs` that may carry a sampler: one dict gets a `sampler` key,
another is filled later with `update`, a third is a parameter."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

x = torch.randn(64, 64)
y = torch.arange(64) // 32  # rows sorted by class
dataset = TensorDataset(x, y)
sampled = {"num_workers": 2, "sampler": RandomSampler(dataset)}
updated = {"num_workers": 2}
updated.update(sampler=RandomSampler(dataset))


def train(loader):
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()


def build(options):
    return DataLoader(dataset, batch_size=16, shuffle=False, **options)


train(DataLoader(dataset, batch_size=16, shuffle=False, **sampled))
train(DataLoader(dataset, batch_size=16, shuffle=False, **updated))
train(build({"sampler": RandomSampler(dataset)}))
