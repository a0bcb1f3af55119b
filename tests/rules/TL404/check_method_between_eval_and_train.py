"""A super-resolution model class whose `test` method, called for every validation image in
the middle of training, switches the generator to eval mode, runs it and switches it back,
all with gradients on: each call records a full-image graph that no backward uses."""

import torch
import torch.nn as nn


class SRModel:
    def __init__(self) -> None:
        self.netG = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 3, 3, padding=1))
        self.optimizer = torch.optim.Adam(self.netG.parameters(), lr=1e-4)

    def feed(self, lr: torch.Tensor, hr: torch.Tensor) -> None:
        self.lr, self.hr = lr, hr

    def optimize(self) -> None:
        self.optimizer.zero_grad()
        nn.functional.l1_loss(self.netG(self.lr), self.hr).backward()
        self.optimizer.step()

    def test(self) -> None:
        self.netG.eval()
        self.sr = self.netG(self.lr)  # TL404
        self.netG.train()
