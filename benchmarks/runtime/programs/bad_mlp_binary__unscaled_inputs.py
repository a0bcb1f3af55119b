"""Trains a binary MLP classifier with BCEWithLogits and SGD with momentum on tabular data."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 50
BATCH = 128


def make_data(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Loan-default-like table: income, debt, age, months employed, open accounts, utilisation."""
    offsets = torch.tensor([52000.0, 9000.0, 41.0, 60.0, 4.0, 0.35])
    scales = torch.tensor([15000.0, 4000.0, 11.0, 30.0, 2.0, 0.15])
    z = torch.randn(n, 6, generator=g)
    score = -1.2 * z[:, 0] + 1.5 * z[:, 1] - 0.5 * z[:, 2] + 1.0 * z[:, 5] * z[:, 1]
    y = (score + 0.3 * torch.randn(n, generator=g) > 0.0).float()
    return offsets + scales * z, y.unsqueeze(1)


class Classifier(nn.Module):
    def __init__(self, n_in: int, hidden: int = 48) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.fc1(x))
        h = self.act(self.fc2(h))
        return self.out(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x_raw, y = make_data(2048, g)
    x = x_raw

    model = Classifier(6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()

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
        accuracy = ((logits > 0).float() == y).float().mean().item()
    print(f"accuracy {accuracy:.3f}")
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
