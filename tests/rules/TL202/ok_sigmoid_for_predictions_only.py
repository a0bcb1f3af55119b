"""BCEWithLogitsLoss gets the logits; the sigmoid is only used to threshold predictions."""

import torch
import torch.nn as nn

model = nn.Linear(10, 1)
criterion = nn.BCEWithLogitsLoss()
x, y = torch.randn(4, 10), torch.rand(4, 1)
logits = model(x)
loss = criterion(logits, y)
preds = (torch.sigmoid(logits) > 0.5).float()
