"""A scheduler built through `from torch.optim.lr_scheduler import CosineAnnealingLR` and stepped
before the optimizer (SGD from `from torch.optim import SGD`).
"""

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.optim import SGD
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
updater = SGD(net.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
warm = CosineAnnealingLR(updater, T_max=100)

for epoch in range(3):
    for xb, yb in loader:
        updater.zero_grad()
        loss_fn(net(xb), yb).backward()
        warm.step()  # TL105
        updater.step()
