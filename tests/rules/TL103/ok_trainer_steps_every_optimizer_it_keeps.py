"""The same trainer, which steps every optimizer it builds."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self) -> None:
        self.G = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        self.D = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        self.VD = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        self.G_opt = torch.optim.Adam(self.G.parameters(), lr=2e-4)
        self.D_opt = torch.optim.Adam(self.D.parameters(), lr=2e-4)
        self.VD_opt = torch.optim.Adam(self.VD.parameters(), lr=2e-4)

    def save(self, path):
        torch.save({"D_opt": self.D_opt.state_dict(), "VD_opt": self.VD_opt.state_dict()}, path)

    def train_discriminators(self, real):
        self.D_opt.zero_grad()
        self.VD_opt.zero_grad()
        fake = self.G(torch.randn(real.size(0), 8)).detach()
        hinge = nn.functional.relu(1 - self.D(real)).mean() + nn.functional.relu(1 + self.D(fake)).mean()
        vision = nn.functional.relu(1 - self.VD(real)).mean() + nn.functional.relu(1 + self.VD(fake)).mean()
        (hinge + vision).backward()
        self.D_opt.step()
        self.VD_opt.step()

    def train_generator(self):
        self.G_opt.zero_grad()
        fake = self.G(torch.randn(16, 8))
        (-self.D(fake).mean() - self.VD(fake).mean()).backward()
        self.G_opt.step()


trainer = Trainer()
for _ in range(10):
    trainer.train_discriminators(torch.randn(16, 4))
    trainer.train_generator()
