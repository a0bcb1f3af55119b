"""torch.sigmoid applied inside the call to F.binary_cross_entropy_with_logits."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 1)
x, y = torch.randn(4, 10), torch.rand(4, 1)
loss = F.binary_cross_entropy_with_logits(torch.sigmoid(model(x)), y)  # TL202
