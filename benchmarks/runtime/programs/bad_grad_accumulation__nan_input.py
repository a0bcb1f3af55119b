"""Trains an MLP classifier with gradient accumulation over 4 micro-batches, clipping and AdamW."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 4
STEPS = 40
ACCUM = 4
MICRO_BATCH = 16


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1024, 12
    centres = 1.2 * torch.randn(NUM_CLASSES, d, generator=g)
    y = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    x_raw = 100.0 + 15.0 * (centres[y] + torch.randn(n, d, generator=g))
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    x[torch.rand(n, generator=g) < 0.01, 0] = float("nan")

    model = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, NUM_CLASSES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        optimizer.zero_grad()
        step_loss = 0.0
        for _ in range(ACCUM):
            idx = torch.randint(0, n, (MICRO_BATCH,), generator=g)
            loss = loss_fn(model(x[idx]), y[idx]) / ACCUM
            loss.backward()
            step_loss += loss.item()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {step_loss:.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
