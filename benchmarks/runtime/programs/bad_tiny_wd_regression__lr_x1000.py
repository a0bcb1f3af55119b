"""Trains a small MLP regressor with plain SGD and a very small weight decay on standardised data."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 60


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 512, 8
    x_raw = 5.0 + 3.0 * torch.randn(n, d, generator=g)
    w_true = torch.randn(d, generator=g)
    y_raw = x_raw @ w_true + 0.5 * torch.tanh(x_raw[:, 0] - 5.0) + 0.2 * torch.randn(n, generator=g)

    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y = ((y_raw - y_raw.mean()) / y_raw.std()).unsqueeze(1)

    model = nn.Sequential(nn.Linear(d, 32), nn.Tanh(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0, weight_decay=1e-6)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
