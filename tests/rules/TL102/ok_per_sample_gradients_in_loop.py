"""Per-sample gradients collected in a loop (each one cleared, read, clipped and summed by
hand) before one step: the clear inside the loop is wanted."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
params = list(model.parameters())

for _ in range(3):
    x, y = torch.randn(8, 8), torch.randn(8, 1)
    summed = [torch.zeros_like(p) for p in params]
    for xi, yi in zip(x, y):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(xi), yi).backward()
        norm = torch.sqrt(sum((p.grad**2).sum() for p in params))
        for s, p in zip(summed, params):
            s += p.grad / max(1.0, float(norm))
    for s, p in zip(summed, params):
        p.grad = s / len(x)
    optimizer.step()
