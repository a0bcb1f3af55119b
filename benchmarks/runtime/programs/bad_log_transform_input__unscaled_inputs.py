"""Trains an MLP regressor on heavy-tailed count features (page views, clicks, purchases)."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 50
BATCH = 64


class LogCountRegressor(nn.Module):
    """MLP on the count features."""

    def __init__(self, counts: torch.Tensor, hidden: int = 32) -> None:
        super().__init__()
        logs = torch.log1p(counts)
        self.register_buffer("log_mean", logs.mean(dim=0))
        self.register_buffer("log_std", logs.std(dim=0))
        self.net = nn.Sequential(nn.Linear(counts.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, counts: torch.Tensor) -> torch.Tensor:
        return self.net(counts)


def make_counts(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Page views, clicks, purchases: log-normal counts up to ~1e5; target is log revenue (standardised)."""
    latent = torch.randn(n, 3, generator=g)
    counts = torch.floor(torch.exp(torch.tensor([7.0, 4.0, 1.5]) + torch.tensor([1.5, 1.2, 1.0]) * latent))
    target = 0.8 * latent[:, 2] + 0.4 * latent[:, 1] - 0.2 * latent[:, 0] ** 2
    target = target + 0.1 * torch.randn(n, generator=g)
    return counts, ((target - target.mean()) / target.std()).unsqueeze(1)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    counts, y = make_counts(1024, g)

    model = LogCountRegressor(counts)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        idx = torch.randint(0, counts.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(counts[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(counts), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
