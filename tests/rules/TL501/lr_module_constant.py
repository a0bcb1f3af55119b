"""A module-level LR constant of 3.0 used by the helper that builds NAdam."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
LR = 3.0

def build(m):
    return optim.NAdam(m.parameters(), lr=LR)  # TL501

opt = build(model)
