"""Fine-tunes a "pretrained" CNN: stem frozen, rest of the backbone at a low lr and the new head at a high lr (AdamW param groups)."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 40
BATCH = 32
SIZE = 12


def make_images(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy images whose class is the quadrant-pair holding most of the brightness."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    images = 0.5 * torch.randn(n, 1, SIZE, SIZE, generator=g)
    half = SIZE // 2
    for i in range(n):
        c = int(labels[i])
        if c == 0:
            images[i, 0, :half, :] += 1.0
        elif c == 1:
            images[i, 0, :, :half] += 1.0
        else:
            images[i, 0, half:, half:] += 1.5
    return images, labels


class Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.body = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.stem(x)).flatten(1)


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Linear(16 * 9, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    pretrained = Backbone().state_dict()  # stands in for weights loaded from a checkpoint

    raw, labels = make_images(480, g)
    images = (raw - raw.mean()) / raw.std()

    model = Model()
    model.backbone.load_state_dict(pretrained)
    model.backbone.stem.requires_grad_(False)
    optimizer = torch.optim.AdamW(
        [
            {"params": model.head.parameters(), "lr": 3e-3},
        ],
        weight_decay=1e-2,
    )
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
        final = loss_fn(model(images), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
