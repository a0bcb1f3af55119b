"""An encoder drops its history features with `training=True` written out: the features are
dropped after `model.eval()` too, so every evaluation is random."""

import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, dim, history_dropout=0.1):
        super().__init__()
        self.history = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, dim)
        self.history_dropout = history_dropout

    def forward(self, ego, scene):
        h = self.history(ego)
        if self.history_dropout > 0:
            h = F.dropout(h, p=self.history_dropout, training=True)  # TL405
        return self.head(h + scene)
