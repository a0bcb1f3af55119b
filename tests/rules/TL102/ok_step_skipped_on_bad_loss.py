"""A step skipped when the loss is not finite: the clear belongs to every iteration, since no
accumulation is meant."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features, targets = torch.randn(256, 8), torch.randn(256, 1)
loader = DataLoader(TensorDataset(features, targets), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

for epoch in range(3):
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if torch.isfinite(loss):
            optimizer.step()
