"""A loop sweeping several learning rates, extreme ones included, on purpose."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
for lr in [1.0, 1e-3, 1e-8]:
    opt = optim.Adam(model.parameters(), lr=lr)
