"""A LightningModule whose `forward` returns probabilities: `training_step` feeds them to
`F.cross_entropy` (the defect), and so does `validation_step` (the same defect, one finding)."""

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(L.LightningModule):
    def __init__(self, n_in=20, n_classes=4):
        super().__init__()
        self.linear = nn.Linear(n_in, n_classes)

    def forward(self, x):
        return F.softmax(self.linear(x), dim=-1)  # TL201

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
