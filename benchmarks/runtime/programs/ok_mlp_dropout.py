"""Trains an MLP with dropout (train/eval modes) and Adam on a standardised four-class table."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 4
STEPS = 50
BATCH = 64


class DropoutMLP(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_out: int, p: float = 0.2) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(p),
        )
        self.head = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers(x))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1200, 12
    w = torch.randn(d, NUM_CLASSES, generator=g)
    x_raw = 20.0 + 7.0 * torch.randn(n, d, generator=g)
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y = (x @ w + 0.5 * torch.randn(n, NUM_CLASSES, generator=g)).argmax(dim=1)
    train_x, val_x, train_y, val_y = x[:1000], x[1000:], y[:1000], y[1000:]

    model = DropoutMLP(d, 96, NUM_CLASSES)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        model.train()
        idx = torch.randint(0, train_x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(train_x[idx]), train_y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            model.eval()
            with torch.no_grad():
                val_loss = loss_fn(model(val_x), val_y).item()
            print(f"step {step} loss {loss.item():.4f} val {val_loss:.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(train_x), train_y).item()
        val_acc = (model(val_x).argmax(dim=1) == val_y).float().mean().item()
    print(f"val accuracy {val_acc:.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
