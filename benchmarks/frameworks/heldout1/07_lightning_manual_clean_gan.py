"""Tiny GAN on 2-D Gaussian mixture data, Lightning manual optimization with two optimizers."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L


def ring_of_gaussians(n, modes=8, radius=2.0, std=0.05):
    k = torch.randint(0, modes, (n,))
    angle = 2 * math.pi * k.float() / modes
    centers = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    pts = centers + std * torch.randn(n, 2)
    return (pts - pts.mean(0)) / pts.std(0)


class Generator(nn.Module):
    def __init__(self, latent_dim, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


class GAN(L.LightningModule):
    def __init__(self, latent_dim=8, lr=2e-4, b1=0.5, b2=0.999):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = Generator(latent_dim)
        self.discriminator = Discriminator()

    def forward(self, z):
        return self.generator(z)

    @staticmethod
    def adversarial_loss(logits, target):
        return F.binary_cross_entropy_with_logits(logits, target)

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.hparams.latent_dim, device=self.device)

        self.toggle_optimizer(opt_g)
        fake = self(z)
        valid = torch.ones(real.size(0), 1, device=self.device)
        g_loss = self.adversarial_loss(self.discriminator(fake), valid)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.toggle_optimizer(opt_d)
        real_loss = self.adversarial_loss(self.discriminator(real), valid)
        fake_target = torch.zeros(real.size(0), 1, device=self.device)
        fake_loss = self.adversarial_loss(self.discriminator(fake.detach()), fake_target)
        d_loss = 0.5 * (real_loss + fake_loss)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def configure_optimizers(self):
        hp = self.hparams
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=hp.lr, betas=(hp.b1, hp.b2))
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hp.lr, betas=(hp.b1, hp.b2))
        return [opt_g, opt_d], []


if __name__ == "__main__":
    L.seed_everything(1234)
    data = TensorDataset(ring_of_gaussians(2048))
    loader = DataLoader(data, batch_size=64, shuffle=True)
    gan = GAN()
    trainer = L.Trainer(
        max_epochs=3,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(gan, loader)
    with torch.no_grad():
        samples = gan(torch.randn(512, gan.hparams.latent_dim))
    print("g_loss", float(trainer.callback_metrics["g_loss"]), "sample std", samples.std(0).tolist())
