"""A VAE-GAN steps the generator's optimizer twice per iteration (VAE loss, then adversarial
loss) but clears its gradients only before the adversarial pass: the VAE step re-applies the
adversarial gradients of the previous iteration."""
import torch
import torch.nn as nn
import torch.nn.functional as F

netG = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16))
netD = nn.Sequential(nn.Linear(16, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4)
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4)

for step in range(100):
    real = torch.randn(8, 16)
    netD.zero_grad()
    fake = netG(torch.randn(8, 16))
    errD = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
    errD.backward()
    optimizerD.step()

    rec = netG(real)
    vae_err = F.mse_loss(rec, real)
    vae_err.backward()  # TL101
    optimizerG.step()

    netG.zero_grad()
    errG = F.softplus(-netD(netG(torch.randn(8, 16)))).mean()
    errG.backward()
    optimizerG.step()
