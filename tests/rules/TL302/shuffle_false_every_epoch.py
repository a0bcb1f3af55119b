"""shuffle=False written out for the training loader, looped over every epoch."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

x = torch.randn(64, 64)
y = torch.arange(64) // 32  # sorted by class
loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=False)  # TL302
model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(10):
    for xb, yb in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        optimizer.step()
