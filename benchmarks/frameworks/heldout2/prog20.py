"""Siamese embedding network trained with a triplet loss (Lightning, manual optimization)."""
from dataclasses import dataclass

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


@dataclass
class Hparams:
    in_dim: int = 24
    emb_dim: int = 16
    n_identities: int = 10
    margin: float = 0.5
    lr: float = 1e-3
    accumulate: int = 2
    batch_size: int = 32
    epochs: int = 4


class TripletDataset(Dataset):
    def __init__(self, n, hp: Hparams, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.protos = torch.randn(hp.n_identities, hp.in_dim, generator=g)
        self.anchor_ids = torch.randint(0, hp.n_identities, (n,), generator=g)
        shift = torch.randint(1, hp.n_identities, (n,), generator=g)
        self.neg_ids = (self.anchor_ids + shift) % hp.n_identities
        self.noise = 0.4

    def __len__(self):
        return len(self.anchor_ids)

    def sample(self, ident):
        return self.protos[ident] + self.noise * torch.randn(self.protos.size(1))

    def __getitem__(self, i):
        a = self.anchor_ids[i]
        return self.sample(a), self.sample(a), self.sample(self.neg_ids[i])


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim, emb_dim):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, emb_dim))

    def forward(self, x):
        return F.normalize(self.body(x), dim=-1)


class SiameseModule(L.LightningModule):
    def __init__(self, hp: Hparams):
        super().__init__()
        self.hp = hp
        self.automatic_optimization = False
        self.embedder = EmbeddingNet(hp.in_dim, hp.emb_dim)
        self.criterion = nn.TripletMarginLoss(margin=hp.margin)

    def training_step(self, batch, batch_idx):
        anchor, positive, negative = batch
        opt = self.optimizers()
        loss = self.criterion(self.embedder(anchor), self.embedder(positive), self.embedder(negative))
        self.manual_backward(loss / self.hp.accumulate)

        if (batch_idx + 1) % self.hp.accumulate == 0:
            opt.zero_grad()
            opt.step()

        self.log("triplet_loss", loss, prog_bar=True)

    def validation_step(self, batch, batch_idx):
        anchor, positive, negative = batch
        ea, ep, en = self.embedder(anchor), self.embedder(positive), self.embedder(negative)
        d_pos = (ea - ep).pow(2).sum(-1)
        d_neg = (ea - en).pow(2).sum(-1)
        self.log("val_triplet_acc", (d_pos < d_neg).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hp.lr)


def main():
    hp = Hparams()
    L.seed_everything(4)
    train = DataLoader(TripletDataset(768, hp, seed=0), batch_size=hp.batch_size, shuffle=True)
    val = DataLoader(TripletDataset(128, hp, seed=0), batch_size=128)
    trainer = L.Trainer(
        max_epochs=hp.epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(SiameseModule(hp), train, val)
    print({k: round(float(v), 4) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main()
