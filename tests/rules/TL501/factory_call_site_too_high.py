"""An optimizer factory called with lr=5.0 at its only call site."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def make_optimizer(params, lr):
    return optim.Adam(params, lr=lr)  # TL501

opt = make_optimizer(model.parameters(), lr=5.0)
