"""SGD with decay given by position, on a Sequential with BatchNorm, moved to a device first."""

import torch
import torch.nn as nn

WEIGHT_DECAY = 5e-4
net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
net = net.to("cpu")
opt = torch.optim.SGD(net.parameters(), 0.1, 0.9, 0, WEIGHT_DECAY)  # TL503
opt_filtered = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1, weight_decay=1e-4)  # TL503
