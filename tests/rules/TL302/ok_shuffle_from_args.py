"""shuffle comes from a command-line argument."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

x = torch.randn(64, 64)
y = torch.arange(64) // 32  # rows sorted by class
loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=args.shuffle)  # noqa: F821

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
