"""The update rebinds w to a new tensor, so no gradient accumulates on it."""

import torch

def fit(x, y, lr=0.1):
    w = torch.randn(2, requires_grad=True)
    for _ in range(100):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y)
        loss.backward()
        w = w - lr * w.grad
    return w
