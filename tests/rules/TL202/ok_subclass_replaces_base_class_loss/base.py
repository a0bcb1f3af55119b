"""A base model that owns a BCEWithLogitsLoss and a shared training step over `self(x)`."""

import torch.nn as nn


class BinaryModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.criterion = nn.BCEWithLogitsLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.criterion(self(x), y)
