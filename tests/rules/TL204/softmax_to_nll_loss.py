"""F.nll_loss on F.softmax probabilities instead of log-probabilities."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
loss = F.nll_loss(F.softmax(model(x), dim=1), y)  # TL204
