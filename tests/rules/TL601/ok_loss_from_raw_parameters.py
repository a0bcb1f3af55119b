"""Linear regression on a raw leaf tensor with requires_grad=True."""

import torch

X = torch.randn(100, 3)
y = X @ torch.tensor([[2.0], [-1.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
for step in range(10):
    loss = ((X @ w - y) ** 2).mean()
    loss.backward()
