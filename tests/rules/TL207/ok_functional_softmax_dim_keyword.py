"""F.softmax with dim=-1."""

import torch
import torch.nn.functional as F

args = (1,)
x = torch.randn(4, 3)
y = F.softmax(x, dim=-1)
