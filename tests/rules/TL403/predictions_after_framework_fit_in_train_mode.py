"""After `trainer.fit(model, ...)`, a helper collects the model's predictions batch by batch
for a report, with the model still in training mode: its dropout makes the predictions
random from run to run."""

import lightning.pytorch as pl
import torch
import torch.nn as nn


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 1))

    def forward(self, x):
        return self.body(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def get_targets_and_preds(model, loader):
    preds, targets = [], []
    for x, y in loader:
        preds.extend(model(x).squeeze(1).tolist())  # TL403
        targets.extend(y.squeeze(1).tolist())
    return preds, targets


def main(train_loader, test_loader):
    model = Regressor()
    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model, train_loader)
    return get_targets_and_preds(model, test_loader)
