"""Regression model with manual optimization in Lightning (custom clipping + scheduler)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L


class ManualRegressor(L.LightningModule):
    def __init__(self, in_dim=12, hidden=48, lr=2e-3, clip=1.0):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.model = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.LayerNorm(hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.model(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sch = self.lr_schedulers()

        x, y = batch
        pred = self(x)
        loss = F.mse_loss(pred, y)

        self.manual_backward(loss)
        self.clip_gradients(opt, gradient_clip_val=self.hparams.clip, gradient_clip_algorithm="norm")
        opt.step()

        if self.trainer.is_last_batch:
            sch.step()
        self.log("train_mse", loss, prog_bar=True)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_mse", F.mse_loss(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        sch = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        return [opt], [sch]


def make_regression(n, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    coef = torch.linspace(-1, 1, d)
    y = x @ coef + 0.5 * torch.sin(x[:, 0] * 3) + 0.05 * torch.randn(n, generator=g)
    return TensorDataset(x, y)


if __name__ == "__main__":
    L.seed_everything(11)
    train = DataLoader(make_regression(1024, seed=1), batch_size=32, shuffle=True)
    val = DataLoader(make_regression(256, seed=2), batch_size=128)
    trainer = L.Trainer(
        max_epochs=4,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(ManualRegressor(), train, val)
    print("val_mse", float(trainer.callback_metrics["val_mse"]))
