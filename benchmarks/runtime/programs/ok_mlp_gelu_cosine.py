"""Trains a GELU/SiLU MLP regressor with AdamW, linear warm-up and cosine decay via LambdaLR."""

from __future__ import annotations

import math

import torch
from torch import nn

STEPS = 60
WARMUP = 6
BATCH = 64


def warmup_cosine(step: int) -> float:
    if step < WARMUP:
        return (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, STEPS - WARMUP)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1024, 5
    x_raw = torch.rand(n, d, generator=g) * torch.tensor([10.0, 1.0, 100.0, 3.0, 50.0])
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y_raw = torch.sin(2.0 * x[:, 0]) * x[:, 1] + 0.5 * x[:, 2] ** 2 - x[:, 3] * x[:, 4]
    y = ((y_raw - y_raw.mean()) / y_raw.std()).unsqueeze(1)

    model = nn.Sequential(
        nn.Linear(d, 64),
        nn.GELU(),
        nn.Linear(64, 64),
        nn.SiLU(),
        nn.Linear(64, 1),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=warmup_cosine)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.5f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
