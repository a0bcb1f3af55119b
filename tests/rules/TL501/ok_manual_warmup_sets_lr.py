"""The loop assigns every param group's lr itself (a manual warm-up), overriding the initial value."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

opt = optim.Adam(model.parameters(), lr=1.0)
for step in range(10):
    for group in opt.param_groups:
        group["lr"] = 1e-3 * min(1.0, step / 5)
