"""Fine-tunes only a new linear head on top of a frozen (requires_grad=False) "pretrained" MLP backbone."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 4
STEPS = 40
BATCH = 64


def build_backbone() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(16, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.BatchNorm1d(64),
        nn.ReLU(),
    )


def pretrain(backbone: nn.Sequential, g: torch.Generator) -> None:
    """Stands in for loading a checkpoint: a short pre-training on a related task (recovering half the features)."""
    x = torch.randn(512, 16, generator=g)
    target = x[:, :8]
    probe = nn.Linear(64, 8)
    optimizer = torch.optim.Adam(list(backbone.parameters()) + list(probe.parameters()), lr=3e-3)
    for _ in range(30):
        loss = nn.functional.mse_loss(probe(backbone(x)), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


class FineTuned(nn.Module):
    def __init__(self, backbone: nn.Sequential) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(64, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    backbone = build_backbone()
    pretrain(backbone, g)

    n = 800
    x_raw = 4.0 + 2.0 * torch.randn(n, 16, generator=g)
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y = (x[:, :4] + 0.3 * torch.randn(n, 4, generator=g)).argmax(dim=1)

    model = FineTuned(backbone)
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam(model.head.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    model.backbone.eval()  # keep the frozen BatchNorm statistics fixed
    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
