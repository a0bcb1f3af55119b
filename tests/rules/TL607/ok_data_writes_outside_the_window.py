"""`.data` writes real training code makes where autograd has nothing saved: clipping after the
step (WGAN), an EMA copy, a manual SGD update, noise drawn into a fresh tensor, init."""

import copy

import torch
import torch.nn as nn

critic = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
ema = copy.deepcopy(critic)
opt = torch.optim.RMSprop(critic.parameters(), lr=5e-5)
for m in critic.modules():
    if isinstance(m, nn.Linear):
        m.weight.data.normal_(0.0, 0.02)

for step in range(100):
    real, fake = torch.randn(16, 8), torch.randn(16, 8)
    opt.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    noise = real.clone().data.normal_(0, 0.1)  # a new tensor, not the model's
    loss.backward()
    opt.step()
    for p in critic.parameters():
        p.data.clamp_(-0.01, 0.01)
    for e, p in zip(ema.parameters(), critic.parameters()):
        e.data.mul_(0.999).add_(p.data, alpha=0.001)

w = torch.randn(3, requires_grad=True)
for step in range(10):
    loss = (w**2).sum()
    loss.backward()
    w.data.sub_(0.1 * w.grad.data)
    w.grad.data.zero_()

net = nn.Linear(4, 1)
for step in range(10):
    out = net(torch.randn(2, 4))
    if step % 2:
        out.sum().backward()
    else:
        net.weight.data.zero_()  # another arm: no backward follows in this iteration
