"""Trains an MLP autoencoder with a 4-unit bottleneck and MSE reconstruction on standardised low-rank data."""

from __future__ import annotations

import torch
from torch import nn

STEPS = 50
BATCH = 64
DIM = 20
LATENT = 4


def make_data(n: int, g: torch.Generator) -> torch.Tensor:
    """Points near a curved 4-D manifold embedded in 20 raw features with mixed offsets and scales."""
    z = torch.randn(n, LATENT, generator=g)
    mixing = torch.randn(LATENT, DIM, generator=g)
    x = torch.tanh(z @ mixing) + 0.05 * torch.randn(n, DIM, generator=g)
    return 50.0 + 10.0 * x * torch.linspace(0.5, 2.0, DIM)


class AutoEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(DIM, 32),
            nn.Sigmoid(),
            nn.Linear(32, 32),
            nn.Sigmoid(),
            nn.Linear(32, 32),
            nn.Sigmoid(),
            nn.Linear(32, LATENT),
        )
        self.decoder = nn.Sequential(
            nn.Linear(LATENT, 32),
            nn.Sigmoid(),
            nn.Linear(32, 32),
            nn.Sigmoid(),
            nn.Linear(32, 32),
            nn.Sigmoid(),
            nn.Linear(32, DIM),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    raw = make_data(1024, g)
    x = (raw - raw.mean(dim=0)) / raw.std(dim=0)

    model = AutoEncoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.MSELoss()

    for step in range(STEPS):
        batch = x[torch.randint(0, x.shape[0], (BATCH,), generator=g)]
        loss = loss_fn(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    with torch.no_grad():
        final = loss_fn(model(x), x).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
