"""The pixel tensor is divided by 255 in place before training."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

images = torch.randint(0, 256, (128, 1, 8, 8)).float()
images /= 255.0
labels = torch.randint(0, 2, (128,))
loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
