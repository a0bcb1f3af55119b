"""Tabular classifier trained with PyTorch Lightning."""
import argparse

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split
from torchmetrics.functional import accuracy


def make_dataset(n_samples=1024, n_features=20, n_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_classes, n_features, generator=g) * 2.0
    y = torch.randint(0, n_classes, (n_samples,), generator=g)
    x = centers[y] + torch.randn(n_samples, n_features, generator=g)
    return TensorDataset(x, y)


class MLPClassifier(L.LightningModule):
    def __init__(self, in_dim, hidden, n_classes, dropout=0.3, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, n_classes)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x):
        x = F.gelu(self.norm(self.fc1(x)))
        x = F.dropout(x, p=self.hparams.dropout)
        x = F.gelu(self.fc2(x))
        return self.head(x)

    def _shared_step(self, batch, stage):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = accuracy(logits.argmax(dim=-1), y, task="multiclass",
                       num_classes=self.hparams.n_classes)
        self.log(f"{stage}_loss", loss, prog_bar=True)
        self.log(f"{stage}_acc", acc)
        return loss

    def training_step(self, batch, batch_idx):
        return self._shared_step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._shared_step(batch, "val")

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args()

    L.seed_everything(7)
    full = make_dataset()
    train_set, val_set = random_split(full, [896, 128])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=256)

    model = MLPClassifier(in_dim=20, hidden=args.hidden, n_classes=4)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train_loader, val_loader)
    print({k: round(float(v), 4) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
