"""Denoising autoencoder with Lightning manual optimization and a warmup schedule."""
import argparse

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_dim, latent):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 128), nn.ReLU(), nn.Linear(128, latent))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, latent, out_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, out_dim))

    def forward(self, z):
        return self.net(z)


class DenoisingAE(L.LightningModule):
    def __init__(self, in_dim=32, latent=8, lr=2e-3, warmup_steps=20, noise_std=0.3):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.encoder = Encoder(in_dim, latent)
        self.decoder = Decoder(latent, in_dim)

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        opt = self.optimizers()
        sched = self.lr_schedulers()

        noisy = x + self.hparams.noise_std * torch.randn_like(x)
        recon = self(noisy)
        loss = F.mse_loss(recon, x)

        opt.zero_grad()
        self.manual_backward(loss)
        self.clip_gradients(opt, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
        sched.step()
        opt.step()

        self.log("train_mse", loss, prog_bar=True)
        self.log("lr", sched.get_last_lr()[0])

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        self.log("val_mse", F.mse_loss(self(x), x), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        warmup = self.hparams.warmup_steps
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
        return [opt], [sched]


def low_rank_data(n, dim=32, rank=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(rank, dim, generator=g) / rank ** 0.5
    return torch.randn(n, rank, generator=g) @ basis


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()

    L.seed_everything(2)
    data = low_rank_data(1280)
    train = DataLoader(TensorDataset(data[:1024]), batch_size=args.batch_size, shuffle=True)
    val = DataLoader(TensorDataset(data[1024:]), batch_size=256)
    trainer = L.Trainer(
        max_epochs=args.max_epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    model = DenoisingAE()
    trainer.fit(model, train, val)
    print("final:", {k: float(v) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
