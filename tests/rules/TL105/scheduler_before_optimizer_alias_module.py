"""A scheduler built through `import torch.optim.lr_scheduler as lrs`, then `lrs.LambdaLR(...)` and
stepped before the optimizer (SGD from `from torch.optim import SGD`).
"""

import torch
import torch.nn as nn
import torch.optim.lr_scheduler as lrs
from torch.optim import SGD
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
updater = SGD(net.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
warm = lrs.LambdaLR(updater, lambda s: min(1.0, (s + 1) / 50))

for epoch in range(3):
    for xb, yb in loader:
        updater.zero_grad()
        loss_fn(net(xb), yb).backward()
        warm.step()  # TL105
        updater.step()
