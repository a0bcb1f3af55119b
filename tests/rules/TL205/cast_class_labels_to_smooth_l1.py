"""SmoothL1Loss against 0/1 labels made with .long() and cast back to float."""

import torch
import torch.nn as nn

model = nn.Linear(4, 1)
x = torch.randn(6, 4)
y = (x[:, 0] > 0).long()
loss = nn.SmoothL1Loss()(model(x).squeeze(1), y.float())  # TL205
