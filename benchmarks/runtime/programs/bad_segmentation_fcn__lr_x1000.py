"""Trains a tiny fully convolutional network with per-pixel BCEWithLogits to segment bright disks."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 40
BATCH = 16
SIZE = 16


def make_scenes(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy images with one or two disks; the mask marks disk pixels."""
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(), torch.arange(SIZE).float(), indexing="ij")
    masks = torch.zeros(n, 1, SIZE, SIZE)
    for k in range(2):
        cy = torch.randint(3, SIZE - 3, (n, 1, 1), generator=g).float()
        cx = torch.randint(3, SIZE - 3, (n, 1, 1), generator=g).float()
        r = 1.5 + 2.0 * torch.rand(n, 1, 1, generator=g)
        keep = (torch.rand(n, 1, 1, generator=g) < (1.0 if k == 0 else 0.5)).float()
        disk = (((yy - cy) ** 2 + (xx - cx) ** 2) < r**2).float() * keep
        masks[:, 0] = torch.maximum(masks[:, 0], disk)
    images = 0.6 * masks + 0.3 * torch.randn(n, 1, SIZE, SIZE, generator=g)
    return images, masks


def build_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 1, 1),
    )


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw, masks = make_scenes(256, g)
    images = (raw - raw.mean()) / raw.std()

    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=3.0)
    foreground = masks.mean()
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=(1 - foreground) / foreground)

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, images.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(images[idx]), masks[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(images)
        final = loss_fn(logits, masks).item()
        pred = logits > 0
        iou = (pred & (masks > 0.5)).sum() / (pred | (masks > 0.5)).sum()
    print(f"iou {iou.item():.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
