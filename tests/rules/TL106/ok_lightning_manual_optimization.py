"""PyTorch Lightning manual optimisation (a GAN): `self.manual_backward(loss)` is the backward."""

import pytorch_lightning as pl
import torch
import torch.nn as nn
import torch.nn.functional as F


class LitGAN(pl.LightningModule):
    def __init__(self, latent_dim=8):
        super().__init__()
        self.automatic_optimization = False
        self.latent_dim = latent_dim
        self.generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2))
        self.discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        n = real.size(0)
        fake = self.generator(torch.randn(n, self.latent_dim, device=self.device))

        opt_d.zero_grad()
        d_loss = F.binary_cross_entropy_with_logits(
            self.discriminator(real), torch.ones(n, 1, device=self.device)
        ) + F.binary_cross_entropy_with_logits(
            self.discriminator(fake.detach()), torch.zeros(n, 1, device=self.device)
        )
        self.manual_backward(d_loss)
        opt_d.step()

        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(
            self.discriminator(fake), torch.ones(n, 1, device=self.device)
        )
        self.manual_backward(g_loss)
        opt_g.step()

    def configure_optimizers(self):
        return (
            torch.optim.Adam(self.generator.parameters(), lr=2e-4),
            torch.optim.Adam(self.discriminator.parameters(), lr=2e-4),
        )
