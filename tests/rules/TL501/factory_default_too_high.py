"""An optimizer factory whose lr parameter defaults to 2.0, called without overriding it."""

import torch.nn as nn
from torch import optim
model = nn.Linear(8, 2)

def make_optimizer(params, lr=2.0):
    return optim.RAdam(params, lr=lr)  # TL501

opt = make_optimizer(model.parameters())
