"""A small 2-D GAN trained with Lightning manual optimization."""
from dataclasses import dataclass

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class GANConfig:
    latent_dim: int = 8
    hidden: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)
    batch_size: int = 128
    epochs: int = 4


def ring_of_gaussians(n=3072, modes=8, radius=2.0, std=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(0, modes, (n,), generator=g).float()
    angle = 2 * torch.pi * k / modes
    centers = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    return TensorDataset(centers + std * torch.randn(n, 2, generator=g))


class Generator(nn.Module):
    def __init__(self, latent_dim, hidden):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 2),
        )

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


class GAN(L.LightningModule):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        self.automatic_optimization = False
        self.generator = Generator(cfg.latent_dim, cfg.hidden)
        self.discriminator = Discriminator(cfg.hidden)

    def forward(self, z):
        return self.generator(z)

    @staticmethod
    def adversarial_loss(logits, target_is_real):
        target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(real.size(0), self.cfg.latent_dim, device=self.device)

        self.toggle_optimizer(opt_g)
        fake = self(z)
        g_loss = self.adversarial_loss(self.discriminator(fake), True)
        self.manual_backward(g_loss)
        opt_g.step()
        opt_g.zero_grad()
        self.untoggle_optimizer(opt_g)

        self.toggle_optimizer(opt_d)
        real_loss = self.adversarial_loss(self.discriminator(real), True)
        fake_loss = self.adversarial_loss(self.discriminator(fake.detach()), False)
        d_loss = 0.5 * (real_loss + fake_loss)
        self.manual_backward(d_loss)
        opt_d.step()
        opt_d.zero_grad()
        self.untoggle_optimizer(opt_d)

        self.log_dict({"g_loss": g_loss, "d_loss": d_loss}, prog_bar=True)

    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.cfg.lr_g, betas=self.cfg.betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.cfg.lr_d, betas=self.cfg.betas)
        return [opt_g, opt_d]

    def on_train_epoch_end(self):
        with torch.no_grad():
            samples = self(torch.randn(512, self.cfg.latent_dim, device=self.device))
        radius = samples.norm(dim=1).mean().item()
        print(f"epoch {self.current_epoch}: mean sample radius {radius:.3f}")


def main():
    cfg = GANConfig()
    L.seed_everything(0)
    loader = DataLoader(ring_of_gaussians(), batch_size=cfg.batch_size, shuffle=True, drop_last=True)
    model = GAN(cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, loader)


if __name__ == "__main__":
    main()
