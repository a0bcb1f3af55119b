"""`optimizer.zero_grad()` runs once before training, never inside the batch loop.

Shape: a plain script: an epoch loop around `for i, (x, y) in enumerate(loader)` at module
level.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
accum_steps = 4
optimizer.zero_grad()

for epoch in range(3):
    for i, (x, y) in enumerate(loader):
        out = model(x)
        loss = criterion(out, y)
        loss.backward()  # TL101
        optimizer.step()
