"""BCELoss on torch.sigmoid of the outputs."""

import torch
import torch.nn as nn

model = nn.Linear(10, 1)
x, y = torch.randn(4, 10), torch.rand(4, 1)
loss = nn.BCELoss()(torch.sigmoid(model(x)), y)
