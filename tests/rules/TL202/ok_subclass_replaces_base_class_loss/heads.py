"""Near misses of a sigmoid subclass under a base-class BCEWithLogitsLoss: one subclass
returns raw scores, one that ends in a sigmoid replaces the criterion with BCELoss in its own
constructor, and one with a sigmoid overrides the shared step.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from base import BinaryModel


class RawScores(BinaryModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return self.fc(x).squeeze(1)  # ok: logits


class Probabilities(BinaryModel):
    def __init__(self):
        super().__init__()
        self.criterion = nn.BCELoss()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)).squeeze(1)  # ok: the subclass's own BCELoss


class OwnStep(BinaryModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)).squeeze(1)  # ok: the base step is overridden

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.binary_cross_entropy(self(x), y)
