"""F.softmax with dim=None spelled out: still the implicit choice."""

import torch
import torch.nn.functional as F

x = torch.randn(4, 3)
y = F.softmax(x, dim=None)  # TL207
