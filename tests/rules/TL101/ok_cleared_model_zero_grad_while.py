"""Gradients cleared every iteration with `model.zero_grad()`.

Shape: a step-counted `while` loop pulling batches with `next()`, no epoch loop.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
def clear_gradients(module):
    for p in module.parameters():
        p.grad = None


def reset(optimizer):
    optimizer.zero_grad(set_to_none=True)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
accum_steps = 4

step = 0
max_steps = 100
batches = iter(loader)
while step < max_steps:
    try:
        x, y = next(batches)
    except StopIteration:
        batches = iter(loader)
        x, y = next(batches)
    model.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    step += 1
