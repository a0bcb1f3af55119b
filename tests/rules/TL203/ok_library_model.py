"""A timm model: what its head ends with is not known, so nothing is reported."""

import torch
import torch.nn as nn
import timm

model = timm.create_model('resnet18', num_classes=1)
criterion = nn.BCELoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
