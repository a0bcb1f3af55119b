"""The optimizer, named `updater`, is built through `import torch.optim as O`, then `O.Adam(...)`;
the loop steps it without a backward.
"""

import torch
import torch.nn as nn
import torch.optim as O
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
updater = O.Adam(net.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(3):
    for xb, yb in loader:
        updater.zero_grad()
        loss = loss_fn(net(xb), yb)
        updater.step()  # TL104
