"""A GAN with one scheduler per optimizer; the discriminator's scheduler steps before its
optimizer.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

latent_dim = 8
real_points = torch.randn(512, 2) * 0.5 + 1.0
loader = DataLoader(TensorDataset(real_points), batch_size=64, shuffle=True)

generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2))
discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, gamma=0.999)
sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, gamma=0.999)

for epoch in range(5):
    for (real,) in loader:
        n = real.size(0)
        fake = generator(torch.randn(n, latent_dim))

        opt_d.zero_grad()
        d_real = bce(discriminator(real), torch.ones(n, 1))
        d_fake = bce(discriminator(fake.detach()), torch.zeros(n, 1))
        d_loss = d_real + d_fake
        d_loss.backward()
        sched_d.step()  # TL105
        opt_d.step()

        opt_g.zero_grad()
        g_loss = bce(discriminator(fake), torch.ones(n, 1))
        g_loss.backward()
        opt_g.step()
        sched_g.step()
