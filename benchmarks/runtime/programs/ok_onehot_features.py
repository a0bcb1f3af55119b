"""Trains a binary classifier with BCEWithLogits and SGD momentum on one-hot categorical and 0/1 flag features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CARDINALITIES = [4, 6, 3]
N_FLAGS = 5
STEPS = 50
BATCH = 128


def make_table(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Categorical columns one-hot encoded plus binary flags; every feature is exactly 0 or 1."""
    columns = [torch.randint(0, k, (n,), generator=g) for k in CARDINALITIES]
    flags = (torch.rand(n, N_FLAGS, generator=g) < 0.4).float()
    onehots = [F.one_hot(c, k).float() for c, k in zip(columns, CARDINALITIES)]
    logit = (columns[0] == 2).float() * 2.0 - (columns[1] >= 4).float() * 1.5 + flags[:, 0] - flags[:, 3] * flags[:, 4]
    logit = logit + 1.5 * (columns[2] == 0).float() - 0.5
    y = (torch.rand(n, generator=g) < torch.sigmoid(2.0 * logit)).float()
    return torch.cat(onehots + [flags], dim=1), y.unsqueeze(1)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = make_table(2048, g)

    model = nn.Sequential(nn.Linear(x.shape[1], 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
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
