"""A multitask helper sums its head losses and the caller backpropagates the total."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

def multitask(xb, yb):
    total = 0
    for head in range(3):
        total += criterion(model(xb + head), yb)
    return total

for xb, yb in loader:
    optimizer.zero_grad()
    loss = multitask(xb, yb)
    loss.backward()
    optimizer.step()
