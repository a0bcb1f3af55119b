"""Trains a shared-trunk MLP with a regression head (MSE) and a classification head (cross-entropy) using Adam."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 50
BATCH = 64


class MultiTaskNet(nn.Module):
    def __init__(self, n_in: int, hidden: int = 64) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.reg_head = nn.Linear(hidden, 1)
        self.cls_head = nn.Linear(hidden, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.reg_head(h), self.cls_head(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n, d = 1024, 10
    x_raw = torch.randn(n, d, generator=g) * torch.linspace(1.0, 25.0, d) + torch.linspace(0.0, 90.0, d)
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)
    y_reg = x[:, 0] * x[:, 1] + torch.sin(x[:, 2]) + 0.1 * torch.randn(n, generator=g)
    y_reg = ((y_reg - y_reg.mean()) / y_reg.std()).unsqueeze(1)
    y_cls = torch.bucketize(x[:, 3] + x[:, 4], torch.tensor([-0.7, 0.7]))

    model = MultiTaskNet(d)
    optimizer = torch.optim.Adam(list(model.trunk.parameters()) + list(model.reg_head.parameters()), lr=3e-3)
    mse = nn.MSELoss()
    ce = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, n, (BATCH,), generator=g)
        pred_reg, pred_cls = model(x[idx])
        loss = mse(pred_reg, y_reg[idx]) + ce(pred_cls, y_cls[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        pred_reg, pred_cls = model(x)
        final = (mse(pred_reg, y_reg) + ce(pred_cls, y_cls)).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
