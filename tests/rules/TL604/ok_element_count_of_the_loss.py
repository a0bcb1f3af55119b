"""An unreduced loss: its sum goes in as a number, and its element count (`.numel()`, an int)
is counted beside it to average over every element at the end."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randn(64, 3)), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss(reduction="none")

for epoch in range(2):
    total_loss, total_count, rows = 0.0, 0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        losses = criterion(model(xb), yb)
        losses.mean().backward()
        optimizer.step()
        total_loss += losses.sum().item()
        total_count += losses.numel()
        rows += losses.shape[0]
    print(total_loss / total_count, rows)
