"""A small CNN on synthetic images: ten classes, each a fixed random pattern under noise.

    python cnn_images.py [--lr LR] [--epochs N]

The default rate (SGD with momentum at 8.0) is far too high for this network.
"""

import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def data(n: int = 4096) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    templates = torch.randn(10, 3, 16, 16, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = templates[labels] + 1.5 * torch.randn(n, 3, 16, 16, generator=g)
    images = (images - images.mean()) / images.std()
    return TensorDataset(images, labels)


def get_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=8.0)
    parser.add_argument("--epochs", type=int, default=20)
    return parser.parse_args()


def main() -> None:
    args = get_args()
    torch.manual_seed(0)
    loader = DataLoader(data(), batch_size=64, shuffle=True)
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
