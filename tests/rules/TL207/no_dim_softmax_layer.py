"""An nn.Softmax layer built without dim."""

import torch
import torch.nn as nn

x = torch.randn(4, 3)
y = nn.Softmax()  # TL207
