"""F.nll_loss on torch.log of the softmax: log-probabilities, if less stable ones."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
loss = F.nll_loss(torch.log(F.softmax(model(x), 1)), y)
