"""MSELoss against a continuous target (a sine of the inputs)."""

import torch
import torch.nn as nn

model = nn.Linear(2, 1)
x = torch.rand(64, 2)
y = torch.sin(3 * x[:, :1])
loss = nn.MSELoss()(model(x), y)
