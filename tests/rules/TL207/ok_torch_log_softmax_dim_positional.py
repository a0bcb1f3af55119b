"""torch.log_softmax with the dim given positionally."""

import torch

args = (1,)
x = torch.randn(4, 3)
y = torch.log_softmax(x, 1)
