"""A linear probe: the frozen backbone (outside the optimizer) runs under `torch.no_grad()`."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
backbone = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
backbone.requires_grad_(False)
probe = nn.Linear(64, 3)
optimizer = torch.optim.SGD(probe.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()

for epoch in range(3):
    for x, y in loader:
        with torch.no_grad():
            feats = backbone(x)  # ok: the backbone is frozen and not optimised
        loss = criterion(probe(feats), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
