"""The learning rate is read from an environment variable."""

import torch.nn as nn
from torch import optim
import os
model = nn.Linear(8, 2)
opt = optim.Adam(model.parameters(), lr=float(os.environ['LR']))
