"""The optimizer, named `updater`, is built through `from torch import optim`, then
`optim.SGD(...)`; the loop clears it with `updater.zero_grad()`.
"""

import torch
import torch.nn as nn
from torch import optim
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
updater = optim.SGD(net.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(3):
    for xb, yb in loader:
        updater.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        updater.step()
