"""The gradients are cleared after each epoch only, so the batches of an epoch accumulate."""

import torch

X = torch.randn(200, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05

for epoch in range(5):
    for i in range(0, 200, 20):
        loss = ((X[i:i + 20] @ w + b - y[i:i + 20]) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad  # TL603
            b -= lr * b.grad
    w.grad = None
    b.grad = None
