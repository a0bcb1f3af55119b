"""A trainer's `_backward` helper scales and backpropagates a loss and returns it, still a
tensor with its graph; the micro-batch loop adds that return value, and the loss itself,
into a logging total, so every micro-batch's graph stays alive until the total is reset."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model: nn.Module, chunks: int) -> None:
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.chunks = chunks

    def _backward(self, loss, mul=1.0):
        loss = loss * mul / self.chunks
        loss.backward()
        return loss

    def train(self, steps: int) -> None:
        for step in range(steps):
            self.opt.zero_grad()
            logged = 0
            for i in range(self.chunks):
                x, y = torch.randn(8, 4), torch.randn(8, 1)
                loss = F.mse_loss(self.model(x), y)
                logged += self._backward(loss)  # TL604
                logged += loss  # TL604
            self.opt.step()
            print(float(logged))


Trainer(nn.Linear(4, 1), chunks=4).train(10)
