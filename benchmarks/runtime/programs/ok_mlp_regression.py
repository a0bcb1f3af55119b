"""Trains a two-hidden-layer MLP regressor with MSE on standardised synthetic tabular data."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 50
BATCH = 64


def make_data(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A house-price-like table whose raw columns live on very different scales."""
    offsets = torch.tensor([1200.0, 3.0, 45.0, 0.5, 250.0, 10.0])
    scales = torch.tensor([400.0, 1.0, 12.0, 0.2, 80.0, 4.0])
    z = torch.randn(n, 6, generator=g)
    raw = offsets + scales * z
    y = 2.0 * z[:, 0] - 1.5 * z[:, 2] + z[:, 4] * z[:, 1] + 0.5 * torch.sin(3.0 * z[:, 3])
    y = y + 0.1 * torch.randn(n, generator=g)
    return raw, y.unsqueeze(1)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_raw, y_raw = make_data(1024, g)
    mean, std = x_raw.mean(dim=0), x_raw.std(dim=0)
    x = (x_raw - mean) / std
    y = (y_raw - y_raw.mean()) / y_raw.std()

    model = nn.Sequential(
        nn.Linear(6, 64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 1),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
