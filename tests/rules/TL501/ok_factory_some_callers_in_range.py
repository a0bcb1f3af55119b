"""An optimizer factory called once with lr=5.0 and once with 1e-3: no single rate to judge."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def make_optimizer(params, lr):
    return optim.Adam(params, lr=lr)

opt = make_optimizer(model.parameters(), lr=5.0)
opt2 = make_optimizer(model.parameters(), lr=1e-3)
