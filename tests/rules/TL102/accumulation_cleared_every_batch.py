"""Gradient accumulation whose clear runs every batch: the step, every fourth batch, sees the
last batch's gradients only."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features, targets = torch.randn(256, 8), torch.randn(256, 1)
loader = DataLoader(TensorDataset(features, targets), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
accumulation_steps = 4

for epoch in range(3):
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()  # TL102
        loss = nn.functional.mse_loss(model(x), y) / accumulation_steps
        loss.backward()
        if (i + 1) % accumulation_steps == 0:
            optimizer.step()
