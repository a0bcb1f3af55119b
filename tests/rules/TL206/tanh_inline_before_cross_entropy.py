"""F.cross_entropy on torch.tanh of the outputs: logits squashed into [-1, 1]."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
loss = F.cross_entropy(torch.tanh(model(x)), y)  # TL206
