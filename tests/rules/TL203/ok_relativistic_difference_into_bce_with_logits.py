"""A relativistic GAN loss on the discriminator's raw scores with `BCEWithLogitsLoss`, and a
plain `BCELoss` on `1 - p`, which is still a probability."""

import torch
import torch.nn as nn

disc = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
gen = nn.Sequential(nn.Linear(4, 8))
adversarial = nn.BCEWithLogitsLoss()
bce = nn.BCELoss()
opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4)
data = [torch.randn(16, 8) for _ in range(4)]

for real in data:
    fake = gen(torch.randn(16, 4)).detach()
    d_real, d_fake = disc(real), disc(fake)
    ones, zeros = torch.ones_like(d_real), torch.zeros_like(d_fake)
    opt_d.zero_grad()
    loss_real = adversarial(d_real - torch.mean(d_fake), ones)
    loss_fake = adversarial(d_fake - torch.mean(d_real), zeros)
    p_fake = torch.sigmoid(d_fake)
    loss_flip = bce(1 - p_fake, ones)
    ((loss_real + loss_fake + loss_flip) / 3).backward()
    opt_d.step()
