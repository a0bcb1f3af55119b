"""log of values that are not a softmax output, and a name rebound before the log."""

import torch

x = torch.rand(4) + 0.5
y = torch.log(x)
p = torch.softmax(torch.randn(3), dim=0)
p = p * 0.5 + 0.25
z = torch.log(p)
