"""The same GAN clears the generator's gradients on every batch, outside the warm-up test:
nothing accumulates."""

import torch
import torch.nn as nn
import torch.nn.functional as F

generator = nn.Sequential(nn.Linear(80, 256), nn.Tanh())
discriminator = nn.Sequential(nn.Linear(256, 1))
optim_g = torch.optim.AdamW(generator.parameters(), lr=2e-4)
optim_d = torch.optim.AdamW(discriminator.parameters(), lr=2e-4)
disc_start = 1000
loader = [(torch.randn(8, 80), torch.randn(8, 256)) for _ in range(4)]

steps = 0
for mel, audio in loader:
    fake = generator(mel)
    if steps > disc_start:
        optim_d.zero_grad()
        loss_d = F.softplus(discriminator(fake.detach())).mean() + F.softplus(-discriminator(audio)).mean()
        loss_d.backward()
        optim_d.step()
    optim_g.zero_grad()
    loss_g = F.l1_loss(fake, audio)
    if steps > disc_start:
        loss_g = loss_g + F.softplus(-discriminator(fake)).mean()
    loss_g.backward()
    optim_g.step()
    steps += 1
