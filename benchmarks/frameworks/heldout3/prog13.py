"""Siamese pair classifier with Lightning manual optimization."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
import lightning as L


class PairDataset(Dataset):
    def __init__(self, n, dim=16, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.a = torch.randn(n, dim, generator=g)
        same = torch.rand(n, generator=g) < 0.5
        other = torch.randn(n, dim, generator=g)
        noisy = self.a + 0.4 * torch.randn(n, dim, generator=g)
        self.b = torch.where(same[:, None], noisy, other)
        self.y = same.long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.a[i], self.b[i], self.y[i]


class Encoder(nn.Module):
    def __init__(self, dim, emb):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, 64), nn.ReLU(), nn.Linear(64, emb))

    def forward(self, x):
        return self.net(x)


class SiameseModule(L.LightningModule):
    def __init__(self, dim=16, emb=32, lr=2e-3, max_norm=1.0):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.encoder = Encoder(dim, emb)
        self.head = nn.Sequential(nn.Linear(4 * emb, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 2))

    def forward(self, a, b):
        ea, eb = self.encoder(a), self.encoder(b)
        feats = torch.cat([ea, eb, (ea - eb).abs(), ea * eb], dim=-1)
        return self.head(feats)

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        a, b, y = batch
        logits = self(a, b)
        loss = F.cross_entropy(logits, y)
        self.manual_backward(loss)
        self.clip_gradients(optimizer, gradient_clip_val=self.hparams.max_norm, gradient_clip_algorithm="norm")
        optimizer.step()
        self.log("train_loss", loss, on_step=False, on_epoch=True)

    def on_train_epoch_end(self):
        self.lr_schedulers().step()

    def validation_step(self, batch, batch_idx):
        a, b, y = batch
        logits = self(a, b)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def main():
    L.seed_everything(99)
    train_loader = DataLoader(PairDataset(2048, seed=1), batch_size=64, shuffle=True)
    val_loader = DataLoader(PairDataset(512, seed=2), batch_size=256)
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=5,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    module = SiameseModule()
    trainer.fit(module, train_loader, val_loader)
    print(trainer.callback_metrics)


if __name__ == "__main__":
    main()
