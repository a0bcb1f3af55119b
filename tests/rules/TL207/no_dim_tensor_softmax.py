"""The tensor method x.softmax() called without dim."""

import torch

x = torch.randn(4, 3)
y = x.softmax()  # TL207
