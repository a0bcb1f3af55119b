"""A class on a base out of sight that defines `forward` but builds no `torch.nn` layer (a
data transform): nothing says it is a module with a training flag."""

import torch.nn.functional as F

from .pipeline import Step


class Jitter(Step):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p)
