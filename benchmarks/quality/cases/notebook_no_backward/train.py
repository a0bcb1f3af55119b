# %% [markdown]
# # Quick experiment: two-moons style classifier
# Exported from a notebook; cells are separated by `# %%` markers.

# %%
import math

import torch
from torch import nn

torch.manual_seed(3)

# %%
n = 256
angles = torch.rand(n) * math.pi
upper = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
lower = torch.stack([1 - torch.cos(angles), 0.5 - torch.sin(angles)], dim=1)
points = torch.cat([upper, lower]) + 0.1 * torch.randn(2 * n, 2)
classes = torch.cat([torch.zeros(n), torch.ones(n)]).long()

# %%
net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
loss_fn = nn.CrossEntropyLoss()

# %%
losses = []
for epoch in range(2):
    order = torch.randperm(2 * n)
    for i in range(0, 2 * n, 64):
        batch = order[i:i + 64]
        optimizer.zero_grad()
        out = net(points[batch])
        loss = loss_fn(out, classes[batch])
        optimizer.step()
        losses.append(loss.item())
    print(epoch, sum(losses[-8:]) / 8)

# %%
with torch.no_grad():
    acc = (net(points).argmax(1) == classes).float().mean().item()
print(f"train accuracy {acc:.3f}")
