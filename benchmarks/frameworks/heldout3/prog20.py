import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


class SyntheticDataModule(pl.LightningDataModule):
    def __init__(self, n_features=12, n_classes=6, batch_size=64, seed=0):
        super().__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.batch_size = batch_size
        self.seed = seed

    def _make(self, n, offset):
        g = torch.Generator().manual_seed(self.seed + offset)
        protos = torch.randn(self.n_classes, self.n_features, generator=torch.Generator().manual_seed(self.seed))
        y = torch.randint(0, self.n_classes, (n,), generator=g)
        x = protos[y] + 0.9 * torch.randn(n, self.n_features, generator=g)
        return TensorDataset(x, y)

    def setup(self, stage=None):
        self.train_set = self._make(2048, 1)
        self.val_set = self._make(512, 2)
        self.test_set = self._make(512, 3)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=256)


class LogProbClassifier(pl.LightningModule):
    def __init__(self, n_features=12, n_classes=6, hidden=64, max_lr=0.1):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(
            nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.2),
        )
        self.out = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return F.log_softmax(self.out(self.backbone(x)), dim=-1)

    def _step(self, batch, stage):
        x, y = batch
        log_probs = self(x)
        loss = F.nll_loss(log_probs, y)
        acc = (log_probs.argmax(dim=-1) == y).float().mean()
        self.log(f"{stage}_loss", loss, on_epoch=True, on_step=False)
        self.log(f"{stage}_acc", acc, on_epoch=True, on_step=False)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.max_lr / 25, momentum=0.9, weight_decay=5e-4)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.hparams.max_lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


if __name__ == "__main__":
    pl.seed_everything(77, workers=True)
    dm = SyntheticDataModule()
    model = LogProbClassifier()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=5,
        deterministic=True,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=dm)
    print(trainer.test(model, datamodule=dm, verbose=False))
