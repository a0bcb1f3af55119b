"""Denoising autoencoder with Lightning Fabric and gradient accumulation."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning.fabric import Fabric, seed_everything


class DenoisingAE(nn.Module):
    def __init__(self, dim=32, bottleneck=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, bottleneck))
        self.decoder = nn.Sequential(nn.Linear(bottleneck, 64), nn.GELU(), nn.Linear(64, dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def low_rank_signals(n, seed, dim=32, rank=6):
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(rank, dim, generator=torch.Generator().manual_seed(0)) / rank ** 0.5
    clean = torch.randn(n, rank, generator=g) @ basis
    noisy = clean + 0.3 * torch.randn(n, dim, generator=g)
    return TensorDataset(noisy, clean)


def evaluate(model, loader):
    model.eval()
    err, n = 0.0, 0
    with torch.inference_mode():
        for noisy, clean in loader:
            err += F.mse_loss(model(noisy), clean, reduction="sum").item()
            n += clean.numel()
    model.train()
    return err / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--micro-batch", type=int, default=16)
    ap.add_argument("--accumulate", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()

    seed_everything(10)
    fabric = Fabric(accelerator="cpu", devices=1)
    model = DenoisingAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    model, optimizer = fabric.setup(model, optimizer)
    train_loader = DataLoader(low_rank_signals(2048, seed=1), batch_size=args.micro_batch, shuffle=True)
    val_loader = DataLoader(low_rank_signals(512, seed=2), batch_size=256)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)

    model.train()
    for epoch in range(args.epochs):
        epoch_loss = 0.0
        for i, (noisy, clean) in enumerate(train_loader):
            is_accumulating = (i + 1) % args.accumulate != 0
            with fabric.no_backward_sync(model, enabled=is_accumulating):
                loss = F.mse_loss(model(noisy), clean)
                fabric.backward(loss / args.accumulate)
            if not is_accumulating:
                fabric.clip_gradients(model, optimizer, max_norm=1.0)
                optimizer.step()
                optimizer.zero_grad()
            epoch_loss += loss.item()
        scheduler.step()
        fabric.print(f"epoch {epoch}: train_mse={epoch_loss / len(train_loader):.4f} "
                     f"val_mse={evaluate(model, val_loader):.4f}")


if __name__ == "__main__":
    main()
