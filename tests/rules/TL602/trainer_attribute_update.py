"""A regressor updates its self.w parameter in place outside torch.no_grad()."""

import torch

class Regressor:
    def __init__(self):
        self.w = torch.zeros(3, requires_grad=True)

    def fit(self, x, y, lr=0.1):
        for _ in range(10):
            loss = ((x @ self.w - y) ** 2).mean()
            loss.backward()
            self.w -= lr * self.w.grad  # TL602
            self.w.grad = None
