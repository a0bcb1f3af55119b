"""Residual MLP on tabular data: torch.compile + float16 autocast with a GradScaler."""
import json
import os
import tempfile
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TrainConfig:
    in_features: int = 24
    width: int = 64
    depth: int = 2
    n_classes: int = 3
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    clip_norm: float = 0.5


class ResidualBlock(nn.Module):
    def __init__(self, width, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(p),
                                nn.Linear(2 * width, width))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class ResMLP(nn.Module):
    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.stem = nn.Linear(cfg.in_features, cfg.width)
        self.blocks = nn.ModuleList([ResidualBlock(cfg.width) for _ in range(cfg.depth)])
        self.head = nn.Sequential(nn.LayerNorm(cfg.width), nn.Linear(cfg.width, cfg.n_classes))

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


class AmpTrainer:
    def __init__(self, model, cfg: TrainConfig):
        self.cfg = cfg
        self.model = torch.compile(model)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.05)
        self.scaler = torch.amp.GradScaler("cpu")
        self.criterion = nn.CrossEntropyLoss()
        self.history = []

    def step(self, x, y):
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.float16):
            loss = self.criterion(self.model(x), y)
        self.scaler.scale(loss).backward()
        grad_norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach(), grad_norm

    def fit(self, loader):
        self.model.train()
        for epoch in range(self.cfg.epochs):
            losses = []
            for x, y in loader:
                loss, _ = self.step(x, y)
                losses.append(loss.item())
            mean_loss = sum(losses) / len(losses)
            self.history.append({"epoch": epoch, "loss": mean_loss, "scale": self.scaler.get_scale()})
            print(self.history[-1])


def make_data(cfg, n=1024, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cfg.in_features, generator=g)
    w = torch.randn(cfg.in_features, cfg.n_classes, generator=g)
    y = (x @ w + 0.5 * torch.randn(n, cfg.n_classes, generator=g)).argmax(1)
    return TensorDataset(x, y)


def main():
    cfg = TrainConfig()
    torch.manual_seed(0)
    loader = DataLoader(make_data(cfg), batch_size=cfg.batch_size, shuffle=True, drop_last=True)
    trainer = AmpTrainer(ResMLP(cfg), cfg)
    trainer.fit(loader)
    out_dir = tempfile.mkdtemp(prefix="resmlp_")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump({"config": asdict(cfg), "history": trainer.history}, f, indent=2)
    torch.save(trainer.model.state_dict(), os.path.join(out_dir, "model.pt"))


if __name__ == "__main__":
    main()
