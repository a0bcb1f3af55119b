import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl


class ManualAccumModule(pl.LightningModule):
    def __init__(self, in_dim=12, n_classes=4, hidden=48, lr=3e-3, accumulate=4, clip=1.0):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.encoder = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.SiLU(), nn.Dropout(0.1),
            nn.Linear(hidden, hidden), nn.SiLU(),
        )
        self.classifier = nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.classifier(self.encoder(x))

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sch = self.lr_schedulers()
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.manual_backward(loss / self.hparams.accumulate)

        if (batch_idx + 1) % self.hparams.accumulate == 0:
            self.clip_gradients(opt, gradient_clip_val=self.hparams.clip, gradient_clip_algorithm="norm")
            opt.step()
            opt.zero_grad()
            sch.step()
        self.log("train_loss", loss.detach(), on_step=False, on_epoch=True)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        probs = logits.softmax(dim=-1)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_conf", probs.max(dim=-1).values.mean())
        self.log("val_acc", (probs.argmax(dim=-1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        sch = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.98)
        return [opt], [sch]


def synthetic(n, in_dim=12, n_classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_dim, generator=g)
    logits = torch.sin(x[:, :n_classes] * 2.0) + x[:, n_classes:2 * n_classes]
    return TensorDataset(x, logits.argmax(dim=1))


if __name__ == "__main__":
    pl.seed_everything(2024)
    train_dl = DataLoader(synthetic(2048, seed=1), batch_size=32, shuffle=True)
    val_dl = DataLoader(synthetic(512, seed=2), batch_size=256)
    module = ManualAccumModule()
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=5,
        logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=train_dl, val_dataloaders=val_dl)
    print({k: round(v.item(), 4) for k, v in trainer.callback_metrics.items()})
