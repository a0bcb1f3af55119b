"""A trainer updates each parameter through p.data and never clears p.grad."""

import torch
import torch.nn as nn

class Trainer:
    def __init__(self, model, lr):
        self.model, self.lr = model, lr

    def step(self, x, y):
        loss = nn.functional.mse_loss(self.model(x), y)
        loss.backward()
        for p in self.model.parameters():
            p.data.add_(p.grad, alpha=-self.lr)  # TL603

    def fit(self, x, y):
        for _ in range(100):
            self.step(x, y)

Trainer(nn.Linear(3, 1), 0.1).fit(torch.randn(10, 3), torch.randn(10, 1))
