"""Trains a CNN without normalisation layers, Kaiming-initialised, with Adam on RGB blob images."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 40
BATCH = 32
SIZE = 12


def make_images(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """8-bit RGB images with one soft blob whose dominant colour channel is the class."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    cy = torch.randint(3, SIZE - 3, (n,), generator=g).float().view(n, 1, 1)
    cx = torch.randint(3, SIZE - 3, (n,), generator=g).float().view(n, 1, 1)
    blob = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 6.0)
    colour = 0.8 * torch.rand(n, 3, generator=g)
    colour[torch.arange(n), labels] = 0.9
    images = 0.35 + 0.6 * blob.unsqueeze(1) * colour.view(n, 3, 1, 1)
    images = images + 0.35 * torch.rand(n, 3, SIZE, SIZE, generator=g)
    return (images * 255.0).clamp(0.0, 255.0).round(), labels


class PlainCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc = nn.Linear(32, NUM_CLASSES)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.relu(self.conv3(x))
        return self.fc(x.mean(dim=(2, 3)))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    pixels, labels = make_images(480, g)
    images = pixels

    model = PlainCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, images.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        logits = model(images)
        final = loss_fn(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    print(f"accuracy {accuracy:.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
