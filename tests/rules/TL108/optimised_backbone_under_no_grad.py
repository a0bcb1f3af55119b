"""A backbone whose parameters are in the optimizer runs under `torch.no_grad()`: it never receives
gradients.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32)
backbone = nn.Sequential(nn.Linear(20, 64), nn.ReLU())
head = nn.Linear(64, 3)
optimizer = torch.optim.SGD(list(backbone.parameters()) + list(head.parameters()), lr=0.05)
criterion = nn.CrossEntropyLoss()

for epoch in range(3):
    for x, y in loader:
        optimizer.zero_grad()
        with torch.no_grad():
            feats = backbone(x)  # TL108
        loss = criterion(head(feats), y)
        loss.backward()
        optimizer.step()
