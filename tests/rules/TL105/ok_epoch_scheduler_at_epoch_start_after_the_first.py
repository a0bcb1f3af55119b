"""A per-epoch StepLR stepped at the start of every epoch but the first: each step closes
the epoch before it, exactly as a step at the end of the epoch would.

Shape: `if epoch > 0:` (and `if epoch:`) around the scheduler step at the top of the epoch loop.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32, shuffle=True)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
start_epoch = 0

for epoch in range(start_epoch, 3):
    if epoch > 0:
        scheduler.step()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()

for epoch in range(3):
    if epoch:
        scheduler.step()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
