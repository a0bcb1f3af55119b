"""Trains an MLP whose first layer is BatchNorm1d, so raw sensor features (mean ~1000) are normalised inside the model."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 50
BATCH = 64


def make_readings(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Pressure (hPa), temperature (K) and flow readings; the class is the operating regime."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    shift = torch.tensor([[0.0, 0.0, 0.0, 0.0], [4.0, -3.0, 2.0, 0.0], [-3.0, 2.0, 3.0, 1.0]])
    z = shift[labels] + torch.randn(n, 4, generator=g)
    offsets = torch.tensor([1013.0, 293.0, 850.0, 1200.0])
    scales = torch.tensor([2.5, 1.2, 40.0, 60.0])
    return offsets + scales * z, labels


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, labels = make_readings(1024, g)
    x[torch.rand(x.shape, generator=g) < 0.005] = float("nan")

    model = nn.Sequential(
        nn.BatchNorm1d(4),
        nn.Linear(4, 32),
        nn.ReLU(),
        nn.Linear(32, 32),
        nn.ReLU(),
        nn.Linear(32, NUM_CLASSES),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(x), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
