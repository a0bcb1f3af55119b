"""A per-epoch StepLR stepped at the start of each epoch under a test that the first epoch
passes too (`epoch >= 0`, a flag): the first epoch already runs at the second value.

Shape: an `if` around the scheduler step at the top of the epoch loop that does not skip
the first epoch.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(256, 20), torch.randint(0, 3, (256,))), batch_size=32, shuffle=True)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
use_schedule = True

for epoch in range(3):
    if use_schedule:
        scheduler.step()  # TL105
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
