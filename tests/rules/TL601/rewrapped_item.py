"""The loss value is taken with .item() and rewrapped in torch.tensor(..., requires_grad=True)."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for xb, yb in loader:
    optimizer.zero_grad()
    loss = torch.tensor(criterion(model(xb), yb).item(), requires_grad=True)
    loss.backward()  # TL601
    optimizer.step()
