"""A project's own Optimizer subclass named like Adam: its range is unknown."""

import torch
import torch.nn as nn
model = nn.Linear(8, 2)

class MyAdam(torch.optim.Optimizer):
    pass

opt = MyAdam(model.parameters(), lr=0.5)
