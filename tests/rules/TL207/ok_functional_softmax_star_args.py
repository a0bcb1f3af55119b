"""F.softmax with its dim in *args: it may well be given."""

import torch
import torch.nn.functional as F

args = (1,)
x = torch.randn(4, 3)
y = F.softmax(x, *args)
