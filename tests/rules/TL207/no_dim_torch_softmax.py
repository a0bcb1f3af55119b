"""torch.softmax called without dim."""

import torch

x = torch.randn(4, 3)
y = torch.softmax(x)  # TL207
