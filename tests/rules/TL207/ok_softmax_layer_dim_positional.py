"""An nn.Softmax layer built with the dim given positionally."""

import torch
import torch.nn as nn

args = (1,)
x = torch.randn(4, 3)
y = nn.Softmax(1)
