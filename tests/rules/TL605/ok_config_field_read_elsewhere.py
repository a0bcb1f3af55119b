"""A config object with a field of that name, read where the model is built."""
import types

import torch
import torch.nn as nn

cfg = types.SimpleNamespace()
cfg.require_grads = False
cfg._requires_grad = True


def build(cfg):
    model = nn.Linear(4, 2)
    for p in model.parameters():
        p.requires_grad = cfg.require_grads
    return model


optimizer = torch.optim.SGD(build(cfg).parameters(), lr=0.1)
