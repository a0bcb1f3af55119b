"""A relativistic GAN loss written with plain `BCELoss`: the discriminator ends in a sigmoid,
and its real and fake scores are subtracted before the loss, so the input is no longer a
probability (it can be negative)."""

import torch
import torch.nn as nn

disc = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())
gen = nn.Sequential(nn.Linear(4, 8))
adversarial = nn.BCELoss()
opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4)
data = [torch.randn(16, 8) for _ in range(4)]

for real in data:
    fake = gen(torch.randn(16, 4)).detach()
    d_real, d_fake = disc(real), disc(fake)
    ones, zeros = torch.ones_like(d_real), torch.zeros_like(d_fake)
    opt_d.zero_grad()
    loss_real = adversarial(d_real - torch.mean(d_fake), ones)  # TL203
    loss_fake = adversarial(d_fake - torch.mean(d_real), zeros)  # TL203
    ((loss_real + loss_fake) / 2).backward()
    opt_d.step()
