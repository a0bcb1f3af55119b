import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L

CFG = dict(
    channels=3,
    length=32,
    n_classes=4,
    width=16,
    lr=2e-3,
    warmup_steps=30,
    epochs=4,
    batch_size=32,
    grad_clip=1.0,
)


def waveforms(n, seed, channels=3, length=32, n_classes=4):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, n_classes, (n,), generator=g)
    t = torch.linspace(0, 2 * math.pi, length)
    freq = (y + 1).float()[:, None, None]
    phase = torch.rand(n, channels, 1, generator=g) * 2 * math.pi
    x = torch.sin(freq * t + phase) + 0.4 * torch.randn(n, channels, length, generator=g)
    return TensorDataset(x, y)


class ConvEncoder(nn.Module):
    def __init__(self, channels, width, n_classes):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(channels, width, 5, padding=2), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Conv1d(width, width * 2, 5, padding=2, stride=2), nn.BatchNorm1d(width * 2), nn.ReLU(),
        )
        self.fc = nn.Linear(width * 2, n_classes)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=-1))


class WaveformTask(L.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.save_hyperparameters(cfg)
        self.automatic_optimization = False
        self.net = ConvEncoder(cfg["channels"], cfg["width"], cfg["n_classes"])

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sched = self.lr_schedulers()
        x, y = batch

        opt.zero_grad()
        sched.step()
        loss = F.cross_entropy(self(x), y)
        self.manual_backward(loss)
        self.clip_gradients(opt, gradient_clip_val=self.hparams.grad_clip, gradient_clip_algorithm="norm")
        opt.step()

        self.log("train_loss", loss, prog_bar=False)
        self.log("lr", sched.get_last_lr()[0])

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(dim=-1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        warmup = self.hparams.warmup_steps
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / warmup))
        return {"optimizer": opt, "lr_scheduler": sched}


def main(cfg):
    L.seed_everything(3)
    train_dl = DataLoader(waveforms(1024, seed=1), batch_size=cfg["batch_size"], shuffle=True)
    val_dl = DataLoader(waveforms(256, seed=2), batch_size=128)
    task = WaveformTask(cfg)
    trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=cfg["epochs"], logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, train_dl, val_dl)
    print({k: round(v.item(), 4) for k, v in trainer.callback_metrics.items()})


if __name__ == "__main__":
    main(CFG)
