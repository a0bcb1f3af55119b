"""A GAN whose discriminator loss is never backpropagated: the generator's backward later in the
iteration does not feed this step.
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

for epoch in range(5):
    for (real,) in loader:
        n = real.size(0)
        fake = generator(torch.randn(n, latent_dim))

        opt_d.zero_grad()
        d_real = bce(discriminator(real), torch.ones(n, 1))
        d_fake = bce(discriminator(fake.detach()), torch.zeros(n, 1))
        d_loss = d_real + d_fake
        opt_d.step()  # TL104

        opt_g.zero_grad()
        g_loss = bce(discriminator(fake), torch.ones(n, 1))
        g_loss.backward()
        opt_g.step()
