"""An autoencoder whose `encode` runs its own encoder: the mode is whatever its caller set."""

import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 32), nn.Dropout(0.1), nn.ReLU(), nn.Linear(32, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AutoEncoder(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.encoder = Encoder(dim)
        self.quant = nn.Linear(dim, 2 * dim)
        self.decoder = nn.Linear(dim, 64)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        mean, _ = self.quant(h).chunk(2, dim=1)
        return mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)
