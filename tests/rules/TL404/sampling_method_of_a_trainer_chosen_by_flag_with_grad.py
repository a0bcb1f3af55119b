"""The trainer is one of two classes picked by a flag; each has a `sample` method that runs its
generator over a few images, and the training script calls it with gradients on."""

import sys

import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(x))


class PairedTrainer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gen = Generator()
        self.opt = torch.optim.Adam(self.gen.parameters(), lr=2e-4)

    def gen_update(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.opt.zero_grad()
        nn.functional.l1_loss(self.gen(x), y).backward()
        self.opt.step()

    def sample(self, x: torch.Tensor) -> torch.Tensor:
        self.eval()
        outs = []
        for i in range(x.size(0)):
            outs.append(self.gen(x[i].unsqueeze(0)))  # TL404
        self.train()
        return torch.cat(outs)


class CycleTrainer(PairedTrainer):
    def sample(self, x: torch.Tensor) -> torch.Tensor:
        self.eval()
        outs = []
        for i in range(x.size(0)):
            outs.append(self.gen(self.gen(x[i].unsqueeze(0))))  # TL404
        self.train()
        return torch.cat(outs)


if sys.argv[-1] == "paired":
    trainer = PairedTrainer()
elif sys.argv[-1] == "cycle":
    trainer = CycleTrainer()
else:
    sys.exit("pick paired or cycle")
display = torch.randn(4, 3, 16, 16)
for it in range(100):
    x, y = torch.randn(8, 3, 16, 16), torch.randn(8, 3, 16, 16)
    trainer.gen_update(x, y)
    if it % 10 == 0:
        images = trainer.sample(display)
