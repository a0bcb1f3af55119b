"""A helper receives `criterion` as a parameter: nothing says which loss it is, so a softmax before
it proves nothing.
"""

import torch.nn.functional as F

def step(model, criterion, x, y):
    return criterion(F.softmax(model(x), 1), y)
