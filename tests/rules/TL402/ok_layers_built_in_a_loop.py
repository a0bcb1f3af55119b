"""The layers are appended to a list in a loop: the depth is not read from the code."""

import torch.nn as nn
layers = []
for i in range(6):
    layers += [nn.Linear(4, 4), nn.Sigmoid()]
model = nn.Sequential(*layers)
