"""A GAN's per-batch `step()` method that clears both networks' gradients; and a
single-network `update()` with no caller in sight, which its runner may clear for: silent."""

import torch
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self, lr):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1), nn.Sigmoid())
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    def forward(self, x):
        return self.net(x)


class Maker(nn.Module):
    def __init__(self, lr):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh())
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    def forward(self, z):
        return self.net(z)


class Pair:
    def __init__(self, lr=2e-4):
        self.critic = Critic(lr)
        self.maker = Maker(lr)
        self.bce = nn.BCELoss()

    def step(self, real):
        n = real.shape[0]
        self.critic.zero_grad()
        out = self.critic(real).view(-1)
        err_real = self.bce(out, torch.ones(n))
        err_real.backward()
        fake = self.maker(torch.randn(n, 4))
        err_fake = self.bce(self.critic(fake.detach()).view(-1), torch.zeros(n))
        err_fake.backward()
        self.critic.optimizer.step()

        self.maker.zero_grad()
        err_g = self.bce(self.critic(fake).view(-1), torch.ones(n))
        err_g.backward()
        self.maker.optimizer.step()
        return err_real.item() + err_fake.item(), err_g.item()


class Single:
    def __init__(self):
        self.net = Critic(1e-3)

    def update(self, x, y):
        loss = nn.functional.binary_cross_entropy(self.net(x).view(-1), y)
        loss.backward()
        self.net.optimizer.step()
        return loss.item()
