"""A config dict literal holding lr=3.0, read by the Adam call."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

config = {"lr": 3.0, "epochs": 3}
opt = optim.Adam(model.parameters(), lr=config["lr"])  # TL501
