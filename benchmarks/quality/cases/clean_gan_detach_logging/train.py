"""DCGAN-style training loop on 2-D points (ring of Gaussians)."""
import math

import torch
import torch.nn as nn

LATENT = 4


def sample_ring(n, modes=8, radius=2.0):
    k = torch.randint(0, modes, (n,)).float()
    angle = 2 * math.pi * k / modes
    centers = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return centers + 0.05 * torch.randn(n, 2)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1), nn.Sigmoid()
        )

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    batch = 64
    history = {"d": [], "g": []}
    for epoch in range(2):
        for _ in range(10):
            real = sample_ring(batch)
            ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

            fake = G(torch.randn(batch, LATENT))
            opt_d.zero_grad()
            d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            d_loss.backward()
            opt_d.step()

            opt_g.zero_grad()
            g_loss = bce(D(fake), ones)
            g_loss.backward()
            opt_g.step()

            history["d"].append(d_loss.detach())
            history["g"].append(g_loss.item())
        d_mean = torch.stack(history["d"][-10:]).mean().item()
        print(f"epoch {epoch}: d {d_mean:.3f} g {sum(history['g'][-10:]) / 10:.3f}")


if __name__ == "__main__":
    main()
