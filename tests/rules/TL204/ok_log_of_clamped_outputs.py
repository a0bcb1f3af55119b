"""F.nll_loss on the log of clamped outputs: a log was taken, so nothing is reported."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
loss = F.nll_loss(torch.log(model(x).clamp(min=1e-6)), y)
