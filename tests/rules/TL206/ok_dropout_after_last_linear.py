"""Tanh between hidden layers and a Dropout after the last nn.Linear: the logits are not squashed."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 3), nn.Dropout(0.1))
criterion = nn.CrossEntropyLoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
