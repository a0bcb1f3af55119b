"""A fraud classifier from another module ends its forward with torch.sigmoid, and its scores go to
BCEWithLogitsLoss, which applies a sigmoid again.
"""

import torch
import torch.nn as nn

from models import FraudNet

model = FraudNet()
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters())
for step in range(3):
    x, y = torch.randn(8, 10), torch.rand(8, 1).round()
    scores = model(x)
    loss = criterion(scores, y)  # TL202
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
