"""Accelerate training loop using accelerator.accumulate for gradient accumulation."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from accelerate import Accelerator
from accelerate.utils import set_seed


@dataclass
class TrainConfig:
    lr: float = 3e-3
    batch_size: int = 8
    grad_accum_steps: int = 4
    epochs: int = 3
    max_grad_norm: float = 1.0
    weight_decay: float = 1e-4


class ResidualBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * 2)
        self.fc2 = nn.Linear(dim * 2, dim)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return x + self.fc2(self.drop(F.gelu(self.fc1(self.norm(x)))))


class ResMLP(nn.Module):
    def __init__(self, d_in=16, dim=64, depth=3, n_out=5):
        super().__init__()
        self.inp = nn.Linear(d_in, dim)
        self.blocks = nn.Sequential(*[ResidualBlock(dim) for _ in range(depth)])
        self.out = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, n_out))

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


def dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 16, generator=g)
    y = torch.bucketize(x[:, 0] + 0.5 * x[:, 1] * x[:, 2], torch.tensor([-1.0, -0.3, 0.3, 1.0]))
    return TensorDataset(x, y)


def main(cfg: TrainConfig):
    set_seed(123)
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=cfg.grad_accum_steps)
    model = ResMLP()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_dl = DataLoader(dataset(768, 0), batch_size=cfg.batch_size, shuffle=True)
    val_dl = DataLoader(dataset(256, 1), batch_size=64)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=cfg.epochs * len(train_dl) // cfg.grad_accum_steps
    )
    model, optimizer, train_dl, val_dl, scheduler = accelerator.prepare(
        model, optimizer, train_dl, val_dl, scheduler
    )

    for epoch in range(cfg.epochs):
        model.train()
        for x, y in train_dl:
            with accelerator.accumulate(model):
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()

        model.eval()
        losses, hits = [], []
        with torch.no_grad():
            for x, y in val_dl:
                logits = model(x)
                losses.append(accelerator.gather_for_metrics(F.cross_entropy(logits, y, reduction="none")))
                hits.append(accelerator.gather_for_metrics(logits.argmax(-1) == y))
        accelerator.print(
            f"epoch {epoch} val_loss={torch.cat(losses).mean():.4f} val_acc={torch.cat(hits).float().mean():.3f}"
        )


if __name__ == "__main__":
    main(TrainConfig())
