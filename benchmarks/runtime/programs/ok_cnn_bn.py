"""Trains a small CNN with BatchNorm and SGD momentum to classify bar orientations in normalised 16x16 images."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 4
STEPS = 40
BATCH = 32
SIZE = 16


def make_images(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """8-bit grayscale images of a horizontal, vertical, diagonal or anti-diagonal bar plus noise."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    images = torch.zeros(n, 1, SIZE, SIZE)
    offsets = torch.randint(-4, 5, (n,), generator=g)
    ar = torch.arange(SIZE)
    for i in range(n):
        k = int(offsets[i])
        c = int(labels[i])
        if c == 0:
            images[i, 0, SIZE // 2 + k, :] = 1.0
        elif c == 1:
            images[i, 0, :, SIZE // 2 + k] = 1.0
        elif c == 2:
            images[i, 0, ar, (ar + k) % SIZE] = 1.0
        else:
            images[i, 0, ar, (SIZE - 1 - ar + k) % SIZE] = 1.0
    images = images * 90.0 + 40.0 + 140.0 * torch.rand(n, 1, SIZE, SIZE, generator=g)
    return images.clamp(0.0, 255.0).round(), labels


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(32, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    pixels, labels = make_images(512, g)
    scaled = pixels / 255.0
    mean, std = scaled.mean(), scaled.std()
    images = (scaled - mean) / std

    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, images.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(images)
        final = loss_fn(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    print(f"accuracy {accuracy:.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
