"""WGAN weight clipping moved between the critic's forward pass and its backward pass."""

import torch
import torch.nn as nn

critic = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 8))
opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
opt_g = torch.optim.RMSprop(generator.parameters(), lr=5e-5)

for step in range(100):
    real = torch.randn(16, 8)
    fake = generator(torch.randn(16, 4)).detach()
    opt_c.zero_grad()
    loss_c = critic(fake).mean() - critic(real).mean()
    for p in critic.parameters():
        p.data.clamp_(-0.01, 0.01)  # TL607
    loss_c.backward()
    opt_c.step()

    opt_g.zero_grad()
    loss_g = -critic(generator(torch.randn(16, 4))).mean()
    loss_g.backward()
    opt_g.step()
