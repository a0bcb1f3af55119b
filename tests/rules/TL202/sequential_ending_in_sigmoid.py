"""An nn.Sequential ending in nn.Sigmoid, trained with BCEWithLogitsLoss."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())  # TL202
criterion = nn.BCEWithLogitsLoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
