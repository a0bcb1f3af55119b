"""Trains a GRU to forecast the next value of a standardised load-like time series with MSE and Adam."""

from __future__ import annotations

import math

import torch
from torch import nn

WINDOW = 24
STEPS = 50
BATCH = 32


def make_series(length: int, g: torch.Generator) -> torch.Tensor:
    """Electricity-load-like series in kW: a level near 1000 with daily and weekly cycles and noise."""
    t = torch.arange(length).float()
    daily = 150.0 * torch.sin(2 * math.pi * t / 24.0)
    weekly = 60.0 * torch.sin(2 * math.pi * t / 168.0)
    return 1000.0 + daily + weekly + 15.0 * torch.randn(length, generator=g)


class Forecaster(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    series = make_series(2000, g)
    mean, std = series.mean(), series.std()
    scaled = (series - mean) / std
    windows = scaled.unfold(0, WINDOW + 1, 1)
    inputs, targets = windows[:, :WINDOW].unsqueeze(-1), windows[:, WINDOW:]

    model = Forecaster()

    with torch.no_grad():
        for p in model.parameters():
            p.mul_(100.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        idx = torch.randint(0, inputs.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(inputs[idx]), targets[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(inputs[:512]), targets[:512]).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
