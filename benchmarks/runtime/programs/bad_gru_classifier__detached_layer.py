"""Trains a bidirectional GRU with Adam to classify the frequency band of standardised noisy oscillations."""

from __future__ import annotations

import math

import torch
from torch import nn

SEQ_LEN = 32
NUM_CLASSES = 3
STEPS = 60
BATCH = 32


def make_sequences(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Vibration readings (in g) around a 9.81 offset; the class is the oscillation frequency band."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    freq = torch.tensor([1.0, 2.5, 4.0])[labels].view(n, 1) + 0.3 * torch.rand(n, 1, generator=g)
    t = torch.arange(SEQ_LEN).float().view(1, SEQ_LEN)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    wave = torch.sin(2 * math.pi * freq * t / SEQ_LEN + phase)
    readings = 9.81 + 0.5 * wave + 0.2 * torch.randn(n, SEQ_LEN, generator=g)
    return readings.unsqueeze(-1), labels


class GRUClassifier(nn.Module):
    def __init__(self, hidden: int = 24) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(out.detach().mean(dim=1))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw, labels = make_sequences(768, g)
    x = (raw - raw.mean()) / raw.std()

    model = GRUClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
