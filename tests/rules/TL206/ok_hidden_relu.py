"""ReLU only between hidden layers; the last layer is nn.Linear."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3))
criterion = nn.CrossEntropyLoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
