"""An AMP GAN: one GradScaler shared by two optimizers, `scaler.update()` once after both steps."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

latent_dim = 8
real_points = torch.randn(512, 2) * 0.5 + 1.0
loader = DataLoader(TensorDataset(real_points), batch_size=64, shuffle=True)

generator = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, 2)).cuda()
discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)).cuda()
opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
scaler = torch.amp.GradScaler("cuda")

for epoch in range(5):
    for (real,) in loader:
        real = real.cuda()
        n = real.size(0)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            fake = generator(torch.randn(n, latent_dim, device="cuda"))
            d_loss = bce(discriminator(real), torch.ones(n, 1, device="cuda")) + bce(
                discriminator(fake.detach()), torch.zeros(n, 1, device="cuda")
            )
        opt_d.zero_grad()
        scaler.scale(d_loss).backward()
        scaler.step(opt_d)

        with torch.autocast(device_type="cuda", dtype=torch.float16):
            g_loss = bce(discriminator(fake), torch.ones(n, 1, device="cuda"))
        opt_g.zero_grad()
        scaler.scale(g_loss).backward()
        scaler.step(opt_g)
        scaler.update()
