"""The update helper is decorated with @torch.no_grad()."""

import torch

X = torch.randn(200, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05

@torch.no_grad()
def update(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad = None

for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    update([w, b], lr)
