"""The backward helper returns `loss.item()`: the total adds numbers; the loss passed to
the helper is logged with `.item()` too."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model: nn.Module, chunks: int) -> None:
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.chunks = chunks

    def _backward(self, loss, mul=1.0):
        if loss is None:
            return 0
        loss = loss * mul / self.chunks
        loss.backward()
        return loss.item() * self.chunks

    def train(self, steps: int) -> None:
        for step in range(steps):
            self.opt.zero_grad()
            logged = 0
            for i in range(self.chunks):
                x, y = torch.randn(8, 4), torch.randn(8, 1)
                loss = F.mse_loss(self.model(x), y)
                logged += self._backward(loss)
                logged += loss.item()
            self.opt.step()
            print(logged)


Trainer(nn.Linear(4, 1), chunks=4).train(10)
