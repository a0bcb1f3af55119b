"""Trains a three-block residual ReLU MLP regressor with SGD momentum and gradient-norm clipping."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 50
BATCH = 64


class Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.fc2(self.relu(self.fc1(x))))


class ResMLP(nn.Module):
    def __init__(self, n_in: int, width: int = 48, blocks: int = 3) -> None:
        super().__init__()
        self.stem = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList([Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.stem(x))
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1024, 8
    x_raw = torch.randn(n, d, generator=g) * torch.linspace(1.0, 40.0, d) + 300.0
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y_raw = x[:, 0] * x[:, 1] - torch.abs(x[:, 2]) + 0.5 * x[:, 3:].sum(dim=1)
    y = ((y_raw - y_raw.mean()) / y_raw.std()).unsqueeze(1)

    model = ResMLP(d)
    nn.init.constant_(model.blocks[0].fc1.bias, -10.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
