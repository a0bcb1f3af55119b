"""A helper receives `criterion` as a parameter: with one-hot targets it may be any loss."""

import torch.nn.functional as F

def step(model, criterion, x, y):
    return criterion(model(x), F.one_hot(y, 3).float())
