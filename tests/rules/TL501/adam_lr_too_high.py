"""Adam built with lr=1.0 as a keyword: far above the range Adam trains in."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.Adam(model.parameters(), lr=1.0)  # TL501
