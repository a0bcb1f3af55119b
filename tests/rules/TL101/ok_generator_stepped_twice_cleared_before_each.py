"""The generator's optimizer steps twice per iteration, with a clear before each backward; a
third optimizer accumulates over two backwards and steps once under a condition."""
import torch
import torch.nn as nn
import torch.nn.functional as F

netG = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16))
netD = nn.Sequential(nn.Linear(16, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
head = nn.Linear(16, 4)
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4)
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4)
optimizerH = torch.optim.SGD(head.parameters(), lr=0.01)

for step in range(100):
    real = torch.randn(8, 16)
    netD.zero_grad()
    fake = netG(torch.randn(8, 16))
    errD = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
    errD.backward()
    optimizerD.step()

    optimizerG.zero_grad()
    vae_err = F.mse_loss(netG(real), real)
    vae_err.backward()
    optimizerG.step()

    optimizerG.zero_grad()
    errG = F.softplus(-netD(netG(torch.randn(8, 16)))).mean()
    errG.backward()
    optimizerG.step()

    F.cross_entropy(head(real), torch.randint(0, 4, (8,))).backward()
    if step % 4 == 3:
        optimizerH.step()
        optimizerH.zero_grad()
