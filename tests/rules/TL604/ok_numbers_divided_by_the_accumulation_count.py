"""Accumulation that logs `loss.item() / grad_accum_every`: a number divided by a number, even
though the backward divides the loss by the same count."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self) -> None:
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)

    def train_step(self, grad_accum_every=4):
        total = 0.0
        for _ in range(grad_accum_every):
            x, y = torch.randn(8, 4), torch.randn(8, 1)
            loss = nn.functional.mse_loss(self.net(x), y)
            total += loss.item() / grad_accum_every
            (loss / grad_accum_every).backward()
        self.opt.step()
        self.opt.zero_grad()
        return total


trainer = Trainer()
for _ in range(5):
    trainer.train_step()
