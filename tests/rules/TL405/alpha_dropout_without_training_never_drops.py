"""`F.alpha_dropout` defaults to `training=False`: without the argument it never drops
anything, so the self-normalising network trains without the dropout it was written with."""

import torch.nn as nn
import torch.nn.functional as F


class SNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return F.alpha_dropout(F.selu(self.fc(x)), 0.1)  # TL405
