"""Loss terms summed in an inner loop, then backpropagated."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for xb, yb in loader:
    optimizer.zero_grad()
    total = 0.0
    for k in range(3):
        part = criterion(model(xb * k), yb)
        total += part
    total.backward()
    optimizer.step()
