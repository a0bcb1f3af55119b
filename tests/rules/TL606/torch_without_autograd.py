"""Backpropagation by hand with torch tensors (no autograd): an output-form derivative is
given the pre-activation."""

import torch


def sigmoid_grad(s):
    return s * (1 - s)


X = torch.randn(32, 4)
y = torch.rand(32, 1)
W = torch.randn(4, 1) * 0.1
lr = 0.1
for step in range(200):
    z = X @ W
    p = torch.sigmoid(z)
    grad_z = (p - y) * sigmoid_grad(z)  # TL606
    W -= lr * X.T @ grad_z
