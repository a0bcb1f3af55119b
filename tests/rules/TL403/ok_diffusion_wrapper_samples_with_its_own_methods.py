"""A diffusion wrapper (an nn.Module holding the denoiser) samples with its own methods; nothing
in sight calls them, so the user of the wrapper decides its mode (`diffusion.eval()` reaches
the denoiser)."""

import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, dim: int = 64, dropout: float = 0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, 256), nn.GELU(), nn.Dropout(dropout), nn.Linear(256, dim))

    def forward(self, x, t):
        return self.net(torch.cat([x, t[:, None]], dim=-1))


class Diffusion(nn.Module):
    def __init__(self, model: Denoiser, steps: int = 100):
        super().__init__()
        self.model = model
        self.steps = steps

    def p_sample(self, x, t):
        pred = self.model(x, t)
        return x - pred / self.steps

    @torch.no_grad()
    def sample(self, n: int, dim: int = 64):
        x = torch.randn(n, dim)
        for i in reversed(range(self.steps)):
            x = self.p_sample(x, torch.full((n,), i / self.steps))
        return x

    def forward(self, x0):
        t = torch.rand(x0.shape[0])
        noise = torch.randn_like(x0)
        return ((self.model(x0 + t[:, None] * noise, t) - noise) ** 2).mean()
