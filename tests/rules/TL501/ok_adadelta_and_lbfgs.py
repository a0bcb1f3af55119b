"""Adadelta and LBFGS at lr=1, their usual setting: families the rule does not judge."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)
opt = optim.Adadelta(model.parameters(), lr=1.0)
opt2 = optim.LBFGS(model.parameters(), lr=1)
