"""The outputs are turned into probabilities only after the loss has been computed from the logits."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
out = model(x)
loss = F.cross_entropy(out, y)
out = F.softmax(out, dim=1)
