"""The factory lives in `utils/model.py` and imports the wrapper from the package `model/`:
`from model import ...` there names the package, not the module itself."""

import torch.nn as nn

from model import ScheduledOptim


def get_model(train=False):
    model = nn.Linear(4, 1)
    if train:
        scheduled_optim = ScheduledOptim(model, 1e-3)
        model.train()
        return model, scheduled_optim
    model.eval()
    return model
