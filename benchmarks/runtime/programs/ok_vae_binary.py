"""Trains a small VAE (reparameterisation, Bernoulli decoder with BCEWithLogits, KL term) on 0/1 pixel patterns."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SIZE = 8
LATENT = 4
STEPS = 60
BATCH = 64


def make_patterns(n: int, g: torch.Generator) -> torch.Tensor:
    """Binary 8x8 images with one axis-aligned filled rectangle; pixels are exactly 0 or 1."""
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    top = torch.randint(0, SIZE - 2, (n, 1, 1), generator=g)
    left = torch.randint(0, SIZE - 2, (n, 1, 1), generator=g)
    height = torch.randint(2, 5, (n, 1, 1), generator=g)
    width = torch.randint(2, 5, (n, 1, 1), generator=g)
    inside = (yy >= top) & (yy < top + height) & (xx >= left) & (xx < left + width)
    return inside.float().view(n, SIZE * SIZE)


class VAE(nn.Module):
    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(SIZE * SIZE, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, LATENT)
        self.logvar = nn.Linear(hidden, LATENT)
        self.dec = nn.Sequential(nn.Linear(LATENT, hidden), nn.ReLU(), nn.Linear(hidden, SIZE * SIZE))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z), mu, logvar


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
    return recon + kl


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = make_patterns(1024, g)

    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    for step in range(STEPS):
        batch = data[torch.randint(0, data.shape[0], (BATCH,), generator=g)]
        logits, mu, logvar = model(batch)
        loss = vae_loss(logits, batch, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        logits, mu, logvar = model(data)
        final = vae_loss(logits, data, mu, logvar).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
