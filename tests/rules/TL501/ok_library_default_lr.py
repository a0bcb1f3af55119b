"""Adam built without a learning rate: the library default applies."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.Adam(model.parameters())
