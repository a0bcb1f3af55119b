"""Trains a Tanh MLP with Xavier init and RMSprop to classify three standardised spiral arms."""

from __future__ import annotations

import math

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 60
BATCH = 96


def make_spirals(n_per_class: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for c in range(NUM_CLASSES):
        r = torch.linspace(0.1, 1.0, n_per_class)
        theta = 3.0 * r + 2.0 * math.pi * c / NUM_CLASSES + 0.15 * torch.randn(n_per_class, generator=g)
        xs.append(torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def build_model() -> nn.Sequential:
    model = nn.Sequential(
        nn.Linear(2, 64),
        nn.Tanh(),
        nn.Linear(64, 64),
        nn.Tanh(),
        nn.Linear(64, NUM_CLASSES),
    )
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight, gain=nn.init.calculate_gain("tanh"))
            nn.init.zeros_(module.bias)
    return model


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_raw, y = make_spirals(300, g)
    x = (x_raw - x_raw.mean(dim=0)) / x_raw.std(dim=0)

    model = build_model()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1.0, alpha=0.99)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), y).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
