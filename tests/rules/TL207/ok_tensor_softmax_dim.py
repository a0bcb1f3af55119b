"""The tensor method x.softmax(-1)."""

import torch

args = (1,)
x = torch.randn(4, 3)
y = x.softmax(-1)
