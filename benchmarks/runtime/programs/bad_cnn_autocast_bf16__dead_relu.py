"""Trains a small BatchNorm CNN under CPU autocast (bfloat16) with AdamW on normalised digit-like images."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 4
STEPS = 40
BATCH = 32
SIZE = 12


def make_images(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Images holding a filled square, a ring, a cross or a single dot, jittered and noisy, in [0, 1]."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    cy = 5.5 + torch.randint(-2, 3, (n, 1, 1), generator=g).float()
    cx = 5.5 + torch.randint(-2, 3, (n, 1, 1), generator=g).float()
    dy, dx = (yy - cy).abs(), (xx - cx).abs()
    radius = torch.sqrt(dy**2 + dx**2)
    shapes = torch.stack(
        [
            ((dy < 3) & (dx < 3)).float(),
            ((radius > 2.0) & (radius < 3.5)).float(),
            (((dy < 0.6) & (dx < 4)) | ((dx < 0.6) & (dy < 4))).float(),
            (radius < 1.2).float(),
        ],
        dim=1,
    )
    images = shapes[torch.arange(n), labels]
    images = (0.8 * images + 0.4 * torch.rand(n, SIZE, SIZE, generator=g)).clamp(0.0, 1.0)
    return images.unsqueeze(1), labels


def build_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, stride=2, bias=False),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4, NUM_CLASSES),
    )


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw, labels = make_images(512, g)
    images = (raw - raw.mean()) / raw.std()

    model = build_model()
    nn.init.constant_(model[4].bias, -10.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, images.shape[0], (BATCH,), generator=g)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            logits = model(images[idx])
        loss = loss_fn(logits.float(), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad(), torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = model(images)
    final = loss_fn(logits.float(), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
