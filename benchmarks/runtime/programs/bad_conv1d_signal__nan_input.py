"""Trains a 1-D CNN with BatchNorm and SiLU on standardised synthetic waveforms (sine, square, sawtooth)."""

from __future__ import annotations

import math

import torch
from torch import nn

NUM_CLASSES = 3
STEPS = 40
BATCH = 32
LENGTH = 64


def make_signals(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw sensor traces in millivolts: a baseline around 300 mV plus a waveform and noise."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    t = torch.arange(LENGTH).float().view(1, LENGTH)
    freq = 2.0 + 3.0 * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    arg = 2 * math.pi * freq * t / LENGTH + phase
    waves = torch.stack(
        [torch.sin(arg), torch.sign(torch.sin(arg)), 2 * ((arg / (2 * math.pi)) % 1.0) - 1],
        dim=1,
    )
    signal = waves[torch.arange(n), labels] + 0.4 * torch.randn(n, LENGTH, generator=g)
    return (300.0 + 25.0 * signal).unsqueeze(1), labels


class SignalNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(1, 16, 5, padding=2),
            nn.BatchNorm1d(16),
            nn.SiLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 5, padding=2),
            nn.BatchNorm1d(32),
            nn.SiLU(),
            nn.AdaptiveMaxPool1d(1),
        )
        self.head = nn.Linear(32, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).squeeze(-1))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw, labels = make_signals(600, g)
    signals = (raw - raw.mean()) / raw.std()
    signals[torch.rand(signals.shape, generator=g) < 0.001] = float("nan")

    model = SignalNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, signals.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(signals[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(signals), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
