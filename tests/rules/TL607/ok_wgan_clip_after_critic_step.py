"""WGAN as usually written: the critic's forward, backward and step, then its weights clipped,
then the generator's loss through the (clipped) critic: the clip follows the critic's backward."""

import torch
import torch.nn as nn

critic = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
generator = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 8))
opt_c = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
opt_g = torch.optim.RMSprop(generator.parameters(), lr=5e-5)

for i in range(100):
    real = torch.randn(16, 8)
    opt_c.zero_grad()
    fake = generator(torch.randn(16, 4)).detach()
    loss_c = -torch.mean(critic(real)) + torch.mean(critic(fake))
    loss_c.backward()
    opt_c.step()
    for p in critic.parameters():
        p.data.clamp_(-0.01, 0.01)
    if i % 5 == 0:
        opt_g.zero_grad()
        loss_g = -torch.mean(critic(generator(torch.randn(16, 4))))
        loss_g.backward()
        opt_g.step()
