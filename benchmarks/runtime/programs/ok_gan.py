"""Trains a tiny GAN (MLP generator and discriminator, two Adam optimisers, BCEWithLogits) on a 2-D Gaussian ring."""

from __future__ import annotations

import math

import torch
from torch import nn

LATENT = 8
STEPS = 80
BATCH = 128


def sample_ring(n: int, g: torch.Generator) -> torch.Tensor:
    """Eight Gaussian modes on a circle of radius 2 (already roughly zero-mean, unit-scale)."""
    k = torch.randint(0, 8, (n,), generator=g).float()
    angle = 2 * math.pi * k / 8
    centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return (centres + 0.1 * torch.randn(n, 2, generator=g)) / 1.4


def build_generator() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(LATENT, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 2)
    )


def build_discriminator() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))


def energy_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Energy distance between two samples: zero when the distributions match."""
    cross = torch.cdist(a, b).mean()
    return (2 * cross - torch.cdist(a, a).mean() - torch.cdist(b, b).mean()).item()


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    generator = build_generator()
    discriminator = build_discriminator()
    opt_g = torch.optim.Adam(generator.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=5e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones = torch.ones(BATCH, 1)
    zeros = torch.zeros(BATCH, 1)
    eval_real = sample_ring(512, g)
    eval_noise = torch.randn(512, LATENT, generator=g)

    for step in range(STEPS):
        real = sample_ring(BATCH, g)
        fake = generator(torch.randn(BATCH, LATENT, generator=g))

        d_loss = bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        g_loss = bce(discriminator(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

        if step % 10 == 0:
            with torch.no_grad():
                distance = energy_distance(generator(eval_noise), eval_real)
            print(f"step {step} d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f} distance {distance:.4f}")

    with torch.no_grad():
        distance = energy_distance(generator(eval_noise), eval_real)
    print(f"final d_loss {d_loss.item():.4f} g_loss {g_loss.item():.4f}")
    print(f"final distance {distance:.4f}")


if __name__ == "__main__":
    main()
