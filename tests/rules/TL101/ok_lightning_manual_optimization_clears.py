"""Manual optimization in Lightning done right: each optimizer of a GAN is cleared before its
backward; and a module with automatic optimization, whose Trainer clears for it."""

import lightning as L
import torch
import torch.nn as nn


class Gan(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.gen = nn.Sequential(nn.Linear(4, 16), nn.Tanh())
        self.disc = nn.Sequential(nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        opt_g, opt_d = self.optimizers()
        real = batch
        fake = self.gen(torch.randn(real.shape[0], 4))

        opt_d.zero_grad()
        d_loss = self.disc(fake.detach()).mean() - self.disc(real).mean()
        self.manual_backward(d_loss)
        opt_d.step()

        opt_g.zero_grad()
        g_loss = -self.disc(fake).mean()
        self.manual_backward(g_loss)
        opt_g.step()

    def configure_optimizers(self):
        return [torch.optim.Adam(self.gen.parameters()), torch.optim.Adam(self.disc.parameters())]


class Auto(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(10, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)
