"""InfoGAN with three optimizers: `info_optimizer` steps the mutual-information loss over the
parameters of G and D together, and never calls `zero_grad()` itself, but `D_optimizer` and
`G_optimizer` clear those same parameters every iteration. Its gradients do not pile up from
one iteration to the next."""

import itertools

import torch
import torch.nn as nn
import torch.optim as optim

G = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
D = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
D_optimizer = optim.Adam(D.parameters(), lr=2e-4)
G_optimizer = optim.Adam(G.parameters(), lr=2e-4)
info_optimizer = optim.Adam(itertools.chain(G.parameters(), D.parameters()), lr=2e-4)
bce = nn.BCELoss()

for step in range(100):
    x = torch.randn(16, 8)
    z = torch.randn(16, 4)
    D_optimizer.zero_grad()
    d_loss = bce(D(x), torch.ones(16, 1)) + bce(D(G(z).detach()), torch.zeros(16, 1))
    d_loss.backward()
    D_optimizer.step()

    G_optimizer.zero_grad()
    fake = G(z)
    g_loss = bce(D(fake), torch.ones(16, 1))
    g_loss.backward(retain_graph=True)
    G_optimizer.step()

    info_loss = (fake[:, :4] - z).pow(2).mean()
    info_loss.backward()
    info_optimizer.step()
