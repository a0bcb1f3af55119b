"""F.softmax called without dim."""

import torch
import torch.nn.functional as F

x = torch.randn(4, 3)
y = F.softmax(x)  # TL207
