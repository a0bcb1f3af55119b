"""A config dict whose lr is overwritten from a JSON file before use."""

import torch.nn as nn
from torch import optim
import json
model = nn.Linear(8, 2)

config = {"lr": 0.3}
config.update(json.load(open("cfg.json")))
opt = optim.Adam(model.parameters(), lr=config["lr"])
