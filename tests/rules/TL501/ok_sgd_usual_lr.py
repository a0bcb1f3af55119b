"""SGD with momentum at lr=0.1."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
