"""Sigmoid gates multiplying the input and a tanh on a residual branch: gating, not a saturating
stack.
"""

import torch
import torch.nn as nn

class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.g1, self.g2, self.g3, self.g4 = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        x = torch.sigmoid(self.g1(x)) * x
        x = torch.sigmoid(self.g2(x)) * x
        x = x + torch.tanh(self.g3(x))
        return torch.tanh(self.g4(x))
