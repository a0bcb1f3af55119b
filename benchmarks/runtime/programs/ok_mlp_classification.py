"""Trains an MLP with cross-entropy to separate five Gaussian classes in standardised tabular data."""

from __future__ import annotations

import torch
from torch import nn

NUM_CLASSES = 5
STEPS = 50
BATCH = 64


def make_data(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Five clusters in 10 raw features with large offsets and mixed units."""
    centres = 2.0 * torch.randn(NUM_CLASSES, 10, generator=g)
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    z = centres[labels] + torch.randn(n, 10, generator=g)
    offsets = torch.linspace(-50.0, 500.0, 10)
    scales = torch.linspace(0.5, 30.0, 10)
    return offsets + scales * z, labels


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_raw, y = make_data(1024, g)
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)

    model = nn.Sequential(
        nn.Linear(10, 64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, NUM_CLASSES),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(x)
        final = loss_fn(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    print(f"accuracy {accuracy:.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
