"""A hand-written momentum update through a velocity buffer."""

import torch

X = torch.randn(200, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05

v = torch.zeros_like(w)
for step in range(50):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        v = 0.9 * v + w.grad
        w -= lr * v
        w.grad.zero_()
