"""`shuffle=False` beside `**kwargs` that may carry a sampler (a `sampler` key, a dict filled later
with `update`, a parameter, also one given a default in the body), and a saliency loop (a
backward with no optimizer) over an unshuffled loader given `**kwargs`."""

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


def fit(loader_options=None):
    if loader_options is None:
        loader_options = {"batch_size": 16}
    train(DataLoader(dataset, shuffle=False, **loader_options))


fit({"batch_size": 8, "sampler": RandomSampler(dataset)})


def saliency(loader):
    """A backward for input gradients, no optimizer: not a training loop for this rule."""
    net = nn.Linear(64, 2)
    maps = []
    for xb, yb in loader:
        xb.requires_grad_(True)
        net(xb)[0, 0].backward()
        maps.append(xb.grad.abs())
    return maps


saliency(DataLoader(dataset, batch_size=16, shuffle=False, **{"num_workers": 0}))
