"""The learning rate is written as a product of literals that comes to 2.0 for Adam."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.Adam(model.parameters(), lr=5 * 1e-1 * 4)  # TL501
