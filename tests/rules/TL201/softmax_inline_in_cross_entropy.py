"""The outputs go through F.softmax inside the F.cross_entropy call itself."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
out = model(x)
loss = F.cross_entropy(F.softmax(out, 1), y)  # TL201
