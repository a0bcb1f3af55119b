"""Trains a 10-block pre-LayerNorm residual MLP classifier with AdamW, warm-up and gradient clipping."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 6
DEPTH = 10
STEPS = 50
WARMUP = 5
BATCH = 64


class ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(self.norm(x))))


class DeepResMLP(nn.Module):
    def __init__(self, n_in: int, width: int, depth: int, n_out: int) -> None:
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(depth)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks[:5](self.stem(x)).detach()
        return self.head(self.norm(self.blocks[5:](h)))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1200, 16
    centres = 1.5 * torch.randn(NUM_CLASSES, d, generator=g)
    y = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    x_raw = 3.0 * (centres[y] + torch.randn(n, d, generator=g)) + 10.0
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)

    model = DeepResMLP(d, 32, DEPTH, NUM_CLASSES)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / WARMUP))
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
