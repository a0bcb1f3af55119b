"""SGD built with lr=5.0 whose rate OneCycleLR replaces with its own max_lr."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

opt = optim.SGD(model.parameters(), lr=5.0)
sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)
