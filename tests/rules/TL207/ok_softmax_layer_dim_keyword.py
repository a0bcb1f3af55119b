"""An nn.Softmax layer built with dim=1."""

import torch
import torch.nn as nn

args = (1,)
x = torch.randn(4, 3)
y = nn.Softmax(dim=1)
