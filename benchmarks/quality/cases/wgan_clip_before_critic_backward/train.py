"""A WGAN whose weight clipping was moved up, between the critic's loss and its backward pass."""

import torch
import torch.nn as nn

torch.manual_seed(0)
critic = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 1))
generator = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2))
opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
opt_g = torch.optim.RMSprop(generator.parameters(), lr=5e-5)
CLIP = 0.01

for step in range(50):
    real = torch.randn(32, 2) * 0.5 + 1.0
    fake = generator(torch.randn(32, 4)).detach()
    opt_c.zero_grad()
    loss_c = critic(fake).mean() - critic(real).mean()
    for p in critic.parameters():
        p.data.clamp_(-CLIP, CLIP)
    loss_c.backward()
    opt_c.step()
    if step % 5 == 0:
        opt_g.zero_grad()
        loss_g = -critic(generator(torch.randn(32, 4))).mean()
        loss_g.backward()
        opt_g.step()
