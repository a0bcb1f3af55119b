"""F.l1_loss against species indices cast to float."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(4, 1)
x = torch.randn(6, 4)
species = torch.tensor([0, 1, 2, 0, 1, 2])
loss = F.l1_loss(model(x).squeeze(1), species.float())  # TL205
