"""An MLP on synthetic tabular data: standardised numeric columns and one-hot categories, a
binary target from a non-linear rule with label noise.

    python tabular_mlp.py [--lr LR] [--epochs N]

The default rate (Adam at 2.0) is far too high.
"""

import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def table(n: int = 8192) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    numeric = torch.randn(n, 12, generator=g)
    category = torch.randint(0, 6, (n,), generator=g)
    onehot = nn.functional.one_hot(category, 6).float()
    score = numeric[:, 0] * numeric[:, 1] + torch.sin(2 * numeric[:, 2]) + (category % 3 - 1).float() * numeric[:, 3]
    flip = torch.rand(n, generator=g) < 0.05
    target = ((score > 0) ^ flip).float()
    return TensorDataset(torch.cat([numeric, onehot], dim=1), target)


def get_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--epochs", type=int, default=20)
    return parser.parse_args()


def main() -> None:
    args = get_args()
    torch.manual_seed(0)
    loader = DataLoader(table(), batch_size=128, shuffle=True)
    model = nn.Sequential(nn.Linear(18, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(args.epochs):
        total = 0.0
        for rows, target in loader:
            optimizer.zero_grad()
            loss = criterion(model(rows).squeeze(1), target)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
