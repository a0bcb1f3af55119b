"""Adam with the common lr=3e-4."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.Adam(model.parameters(), lr=3e-4)
