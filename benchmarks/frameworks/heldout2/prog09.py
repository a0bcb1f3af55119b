"""Image classification with a LightningDataModule and a one-cycle schedule."""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import MulticlassAccuracy


class BlobImages(L.LightningDataModule):
    def __init__(self, n_train=640, n_val=160, n_classes=4, batch_size=32):
        super().__init__()
        self.save_hyperparameters()

    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        n = self.hparams.n_train + self.hparams.n_val
        protos = torch.rand(self.hparams.n_classes, 1, 12, 12, generator=g)
        y = torch.randint(0, self.hparams.n_classes, (n,), generator=g)
        x = (protos[y] + 0.25 * torch.randn(n, 1, 12, 12, generator=g) - 0.5) / 0.3
        self.train_set = TensorDataset(x[: self.hparams.n_train], y[: self.hparams.n_train])
        self.val_set = TensorDataset(x[self.hparams.n_train:], y[self.hparams.n_train:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size * 2)


class LitConvNet(L.LightningModule):
    def __init__(self, n_classes=4, max_lr=1e-2, dropout=0.25):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(32, n_classes)
        self.val_acc = MulticlassAccuracy(num_classes=n_classes)

    def forward(self, x):
        return self.head(self.dropout(self.backbone(x)))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        self.log("lr", self.lr_schedulers().get_last_lr()[0], on_step=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.val_acc(logits, y)
        self.log("val_acc", self.val_acc, on_epoch=True)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.max_lr, momentum=0.9,
                                    nesterov=True, weight_decay=5e-4)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.hparams.max_lr,
            total_steps=self.trainer.estimated_stepping_batches,
        )
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step", "frequency": 1}}


def main():
    L.seed_everything(21)
    dm = BlobImages()
    model = LitConvNet()
    trainer = L.Trainer(
        max_epochs=4,
        accelerator="cpu",
        devices=1,
        gradient_clip_val=1.0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    print(trainer.validate(model, datamodule=dm, verbose=False))


if __name__ == "__main__":
    main()
