"""A GAN loop keeps an EMA copy of the generator and samples from it every 100 steps, after
`g_ema.eval()` and under `no_grad`. The copy is never trained: the eval call is not the top
of the training pass, and the generator that trains is another model."""

import copy

import torch
import torch.nn as nn

generator = nn.Sequential(nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 784))
discriminator = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))
g_ema = copy.deepcopy(generator)
g_optim = torch.optim.Adam(generator.parameters(), lr=2e-4)
d_optim = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
sample_z = torch.randn(16, 64)

for i, real in enumerate(torch.load("images.pt")):
    fake = generator(torch.randn(real.size(0), 64))
    d_loss = nn.functional.softplus(discriminator(fake.detach())).mean() + nn.functional.softplus(-discriminator(real)).mean()
    d_optim.zero_grad()
    d_loss.backward()
    d_optim.step()
    g_loss = nn.functional.softplus(-discriminator(fake)).mean()
    g_optim.zero_grad()
    g_loss.backward()
    g_optim.step()
    with torch.no_grad():
        for p_ema, p in zip(g_ema.parameters(), generator.parameters()):
            p_ema.mul_(0.999).add_(p, alpha=0.001)
    if i % 100 == 0:
        with torch.no_grad():
            g_ema.eval()  # ok: a periodic sample of the EMA copy
            torch.save(g_ema(sample_z), f"sample_{i}.pt")
