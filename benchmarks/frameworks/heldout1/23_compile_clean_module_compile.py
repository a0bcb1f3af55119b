"""nn.Module.compile() in a hand-written train/eval loop with warmup + cosine schedule."""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class HParams:
    epochs: int = 3
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 10
    weight_decay: float = 0.05


class Classifier(nn.Module):
    def __init__(self, d_in=32, hidden=64, n_classes=5, p=0.1):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.fc2 = nn.Linear(hidden, n_classes)
        self.p = p

    def forward(self, x):
        h = F.gelu(self.norm(self.fc1(x)))
        h = F.dropout(h, p=self.p, training=self.training)
        return self.fc2(h)


def warmup_cosine(step, warmup, total):
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def make_loaders(hp):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1600, 32, generator=g) * 4.0 + 10.0
    w = torch.randn(32, 5, generator=g)
    y = ((x - 10.0) @ w).argmax(1)
    x_train, x_val = x[:1280], x[1280:]
    mu, sigma = x_train.mean(0, keepdim=True), x_train.std(0, keepdim=True)
    train = TensorDataset((x_train - mu) / sigma, y[:1280])
    val = TensorDataset((x_val - mu) / sigma, y[1280:])
    return (
        DataLoader(train, batch_size=hp.batch_size, shuffle=True, drop_last=True),
        DataLoader(val, batch_size=160, drop_last=True),
    )


def main(hp: HParams):
    torch.manual_seed(1)
    train_loader, val_loader = make_loaders(hp)
    model = Classifier()
    model.compile()

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": hp.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hp.lr,
    )
    total = hp.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, hp.warmup_steps, total)
    )

    for epoch in range(hp.epochs):
        model.train()
        train_loss = 0.0
        for x, y in train_loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            scheduler.step()
            train_loss += loss.item()

        model.eval()
        correct = n = 0
        with torch.inference_mode():
            for x, y in val_loader:
                correct += (model(x).argmax(-1) == y).sum().item()
                n += y.numel()
        print(f"epoch {epoch}: train_loss={train_loss / len(train_loader):.4f} val_acc={correct / n:.3f}")


if __name__ == "__main__":
    main(HParams())
