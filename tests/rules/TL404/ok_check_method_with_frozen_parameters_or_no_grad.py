"""The same `test` method done two ways that record no graph: every parameter frozen around
the forward, or the forward under `torch.no_grad()`."""

import torch
import torch.nn as nn


class SRModel:
    def __init__(self) -> None:
        self.netG = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 3, 3, padding=1))

    def feed(self, lr: torch.Tensor) -> None:
        self.lr = lr

    def test(self) -> None:
        self.netG.eval()
        for _, v in self.netG.named_parameters():
            v.requires_grad = False
        self.sr = self.netG(self.lr)  # ok: no parameter requires a gradient
        for _, v in self.netG.named_parameters():
            v.requires_grad = True
        self.netG.train()

    def test_no_grad(self) -> None:
        self.netG.eval()
        with torch.no_grad():
            self.sr = self.netG(self.lr)  # ok: under no_grad
        self.netG.train()
