"""A LightningModule whose `forward` returns probabilities for prediction: `training_step`
trains on the raw scores, and only `validation_step` (run by Lightning under no_grad) feeds
the probabilities to `F.cross_entropy`. The model learns, but the validation loss it reports
is not its cross-entropy: a warning, said as such."""

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
        loss = F.cross_entropy(self.linear(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
