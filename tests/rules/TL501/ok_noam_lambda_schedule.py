"""Transformer-style Adam at lr=1.0 scaled down by a Noam LambdaLR schedule."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

opt = optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98))
sched = optim.lr_scheduler.LambdaLR(opt, lambda step: 512 ** -0.5 * min((step + 1) ** -0.5, (step + 1) * 4000 ** -1.5))
