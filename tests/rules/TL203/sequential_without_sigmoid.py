"""An nn.Sequential ending in nn.Linear, trained with BCELoss."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 1))
criterion = nn.BCELoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)  # TL203
    loss.backward()
    optimizer.step()
