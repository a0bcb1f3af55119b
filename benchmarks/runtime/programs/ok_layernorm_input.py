"""Trains an MLP whose first layer is LayerNorm, which removes each spectrum's arbitrary gain and offset (raw counts ~500)."""

from __future__ import annotations

import torch
from torch import nn

BINS = 32
NUM_CLASSES = 4
STEPS = 50
BATCH = 64


def make_spectra(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Detector spectra: a peak whose position is the class, scaled by a per-sample gain on a per-sample baseline."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    centre = 6.0 + 6.0 * labels.float() + torch.randn(n, generator=g)
    bins = torch.arange(BINS).float()
    peak = torch.exp(-0.5 * ((bins.view(1, BINS) - centre.view(n, 1)) / 2.0) ** 2)
    gain = 100.0 + 300.0 * torch.rand(n, 1, generator=g)
    baseline = 400.0 + 200.0 * torch.rand(n, 1, generator=g)
    spectra = baseline + gain * peak + 15.0 * torch.randn(n, BINS, generator=g)
    return spectra, labels


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    spectra, labels = make_spectra(1024, g)

    model = nn.Sequential(
        nn.LayerNorm(BINS),
        nn.Linear(BINS, 64),
        nn.ReLU(),
        nn.Linear(64, NUM_CLASSES),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, spectra.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(spectra[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(spectra), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
