"""MNIST-like image classifier with a LightningDataModule (synthetic images)."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L


@dataclass
class Config:
    batch_size: int = 64
    lr: float = 1e-3
    max_epochs: int = 3
    n_train: int = 1024
    n_val: int = 256


class SyntheticDigits(L.LightningDataModule):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.mean, self.std = 0.1307, 0.3081

    def _make(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        imgs = torch.randint(0, 256, (n, 1, 16, 16), generator=g, dtype=torch.uint8)
        labels = (imgs.float().mean(dim=(1, 2, 3)) > 127.5).long() + 2 * (imgs[:, 0, 0, 0] > 127).long()
        x = imgs.float() / 255.0
        x = (x - self.mean) / self.std
        return TensorDataset(x, labels)

    def setup(self, stage=None):
        self.train_ds = self._make(self.cfg.n_train, 1)
        self.val_ds = self._make(self.cfg.n_val, 2)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size)


class LitConvNet(L.LightningModule):
    def __init__(self, lr: float, num_classes: int = 4):
        super().__init__()
        self.save_hyperparameters()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(16, num_classes)

    def forward(self, x):
        h = self.features(x).flatten(1)
        return self.classifier(self.dropout(h))

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.trainer.max_epochs)
        return [optimizer], [scheduler]


if __name__ == "__main__":
    cfg = Config()
    L.seed_everything(42)
    dm = SyntheticDigits(cfg)
    model = LitConvNet(lr=cfg.lr)
    trainer = L.Trainer(
        max_epochs=cfg.max_epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(model, datamodule=dm)
    trainer.validate(model, datamodule=dm, verbose=False)
    print("val_acc", float(trainer.callback_metrics["val_acc"]))
