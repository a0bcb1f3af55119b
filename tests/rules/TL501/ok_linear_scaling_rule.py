"""The learning rate is computed from a base rate and the batch size (linear scaling)."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
base_lr, batch = 0.1, 1024
opt = optim.Adam(model.parameters(), lr=base_lr * batch / 256)
