"""Adam starts at lr=10.0 and a manual step decay only divides it by ten every ten epochs."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

opt = optim.Adam(model.parameters(), lr=10.0)  # TL501
for epoch in range(30):
    if epoch % 10 == 9:
        for group in opt.param_groups:
            group["lr"] *= 0.1
