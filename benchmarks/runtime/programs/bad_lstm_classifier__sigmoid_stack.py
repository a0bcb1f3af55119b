"""Trains an LSTM sequence classifier with Adam and gradient clipping on standardised float sequences."""

from __future__ import annotations

import torch
from torch import nn

SEQ_LEN = 20
FEATURES = 3
STEPS = 50
BATCH = 32


def make_sequences(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 1 when the first feature's running sum ends above zero (a trend detector)."""
    x = torch.randn(n, SEQ_LEN, FEATURES, generator=g)
    drift = 0.3 * torch.randn(n, 1, generator=g)
    x[:, :, 0] += drift
    labels = (x[:, :, 0].sum(dim=1) > 0).long()
    return x, labels


class LSTMClassifier(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, hidden),
            nn.Sigmoid(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, labels = make_sequences(1024, g)
    x = (x - x.mean(dim=(0, 1))) / x.std(dim=(0, 1))

    model = LSTMClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(x[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
