"""Small 1D-CNN for sequence classification with Lightning."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


class SignalCNN(pl.LightningModule):
    def __init__(self, channels=3, num_classes=5, p_drop=0.3, lr=3e-3):
        super().__init__()
        self.save_hyperparameters()
        self.conv1 = nn.Conv1d(channels, 16, kernel_size=5, padding=2)
        self.conv2 = nn.Conv1d(16, 32, kernel_size=5, padding=2)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.head = nn.Linear(32, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool1d(x, 2)
        x = F.relu(self.bn2(self.conv2(x)))
        x = x.mean(dim=-1)
        x = F.dropout(x, p=self.hparams.p_drop)
        return self.head(x)

    def _shared_step(self, batch):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(-1) == y).float().mean()
        return loss, acc

    def training_step(self, batch, batch_idx):
        loss, acc = self._shared_step(batch)
        self.log_dict({"train/loss": loss, "train/acc": acc})
        return loss

    def validation_step(self, batch, batch_idx):
        loss, acc = self._shared_step(batch)
        self.log_dict({"val/loss": loss, "val/acc": acc})

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-2)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


def synthetic_signals(n, length=64, channels=3, num_classes=5):
    y = torch.randint(0, num_classes, (n,))
    t = torch.linspace(0, 1, length)
    freqs = (y.float() + 1.0).view(n, 1, 1)
    x = torch.sin(2 * torch.pi * freqs * t) + 0.3 * torch.randn(n, channels, length)
    return TensorDataset(x, y)


def main():
    pl.seed_everything(0)
    train_dl = DataLoader(synthetic_signals(768), batch_size=32, shuffle=True)
    val_dl = DataLoader(synthetic_signals(128), batch_size=64)
    trainer = pl.Trainer(
        max_epochs=3,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(SignalCNN(), train_dataloaders=train_dl, val_dataloaders=val_dl)
    print({k: float(v) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
