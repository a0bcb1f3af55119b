"""Customer-churn style classifier with embeddings for categorical columns (Lightning)."""
import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

SETTINGS = {
    "n_rows": 1200,
    "cat_cardinalities": [12, 7, 5],
    "n_numeric": 6,
    "emb_dim": 8,
    "n_classes": 3,
    "batch_size": 64,
    "lr": 3e-3,
    "epochs": 4,
}


class TabularRows(Dataset):
    def __init__(self, n, cards, n_numeric, n_classes, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.cat = torch.stack([torch.randint(0, c, (n,), generator=g) for c in cards], 1)
        self.num = torch.randn(n, n_numeric, generator=g)
        score = self.num[:, 0] + 0.5 * self.num[:, 1] - (self.cat[:, 0] % 3).float()
        self.y = torch.bucketize(score, torch.tensor([-1.0, 0.5])).clamp(max=n_classes - 1)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.cat[i], self.num[i], self.y[i]


class TabularNet(L.LightningModule):
    def __init__(self, cat_cardinalities, n_numeric, emb_dim, n_classes, lr):
        super().__init__()
        self.save_hyperparameters()
        self.embeddings = nn.ModuleList([nn.Embedding(c, emb_dim) for c in cat_cardinalities])
        in_dim = emb_dim * len(cat_cardinalities) + n_numeric
        self.num_norm = nn.BatchNorm1d(n_numeric)
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, 64),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, n_classes),
            nn.ReLU(),
        )

    def forward(self, cat, num):
        embs = [emb(cat[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.mlp(torch.cat(embs + [self.num_norm(num)], dim=1))

    def training_step(self, batch, batch_idx):
        cat, num, y = batch
        logits = self(cat, num)
        loss = F.cross_entropy(logits, y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        cat, num, y = batch
        logits = self(cat, num)
        self.log_dict({"val_loss": F.cross_entropy(logits, y),
                       "val_acc": (logits.argmax(1) == y).float().mean()}, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"}}


def main():
    s = SETTINGS
    L.seed_everything(8)
    data = TabularRows(s["n_rows"], s["cat_cardinalities"], s["n_numeric"], s["n_classes"])
    train_set, val_set = torch.utils.data.random_split(data, [1000, 200])
    model = TabularNet(s["cat_cardinalities"], s["n_numeric"], s["emb_dim"], s["n_classes"], s["lr"])
    trainer = L.Trainer(
        max_epochs=s["epochs"],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(
        model,
        DataLoader(train_set, batch_size=s["batch_size"], shuffle=True),
        DataLoader(val_set, batch_size=200),
    )
    print({k: round(v.item(), 4) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
