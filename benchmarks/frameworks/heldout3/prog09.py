from argparse import ArgumentParser

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from lightning import LightningModule, Trainer, seed_everything


class BinaryScorer(LightningModule):
    def __init__(self, in_dim: int = 10, hidden: int = 32, dropout: float = 0.2, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        for layer in (self.fc1, self.fc2, self.out):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.criterion = nn.BCEWithLogitsLoss()

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = F.dropout(h, p=self.hparams.dropout, training=self.training)
        h = F.relu(self.fc2(h))
        return self.out(h).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train_loss", loss, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        preds = (torch.sigmoid(logits) > 0.5).float()
        self.log("val_loss", self.criterion(logits, y), prog_bar=True)
        self.log("val_acc", (preds == y).float().mean())

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}


def two_moons_like(n, seed, in_dim=10):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_dim, generator=g)
    score = x[:, 0] * x[:, 1] + 0.5 * x[:, 2] - 0.25 * x[:, 3] ** 2
    y = (score > 0).float()
    return TensorDataset(x, y)


def cli():
    parser = ArgumentParser()
    parser.add_argument("--max_epochs", type=int, default=6)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    args = cli()
    seed_everything(args.seed)
    train = DataLoader(two_moons_like(2048, seed=1), batch_size=args.batch_size, shuffle=True)
    val = DataLoader(two_moons_like(512, seed=2), batch_size=256)
    model = BinaryScorer(lr=args.lr)
    trainer = Trainer(
        max_epochs=args.max_epochs,
        accelerator="cpu",
        devices=1,
        gradient_clip_val=1.0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, train, val)
    print({k: float(v) for k, v in trainer.callback_metrics.items()})
