"""Trains a small residual CNN with BatchNorm and a OneCycleLR schedule on normalised texture images."""

from __future__ import annotations

import math

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 40
BATCH = 32
SIZE = 16


def make_images(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Sinusoidal textures whose spatial frequency is the class, with random phase and noise."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    freqs = torch.tensor([1.0, 2.0, 3.5])[labels].view(n, 1, 1)
    phase = 2 * math.pi * torch.rand(n, 1, 1, generator=g)
    angle = math.pi * torch.rand(n, 1, 1, generator=g)
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    coord = xx * torch.cos(angle) + yy * torch.sin(angle)
    texture = torch.sin(2 * math.pi * freqs * coord / SIZE + phase)
    images = texture + 0.6 * torch.randn(n, SIZE, SIZE, generator=g)
    return images.unsqueeze(1), labels


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)


class ResNetTiny(nn.Module):
    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        )
        self.layer1 = ResBlock(channels)
        self.down = nn.MaxPool2d(2)
        self.layer2 = ResBlock(channels)
        self.head = nn.Linear(channels, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(self.layer1(self.stem(x))).detach()
        x = self.layer2(x)
        return self.head(x.mean(dim=(2, 3)))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw, labels = make_images(512, g)
    images = (raw - raw.mean()) / raw.std()

    model = ResNetTiny()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, images.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(images), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
