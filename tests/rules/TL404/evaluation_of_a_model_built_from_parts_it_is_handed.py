"""The model only composes an encoder and a decoder handed to its constructor: it builds no
layer itself, but its parts hold parameters, so the validation loop records their graphs."""

import torch
import torch.nn as nn


class Seq2Seq(nn.Module):
    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(src))


def validate(model: Seq2Seq, valid_iter, criterion) -> float:
    model.eval()
    total = 0.0
    for src, tgt in valid_iter:
        out = model(src)  # TL404
        total += criterion(out, tgt).item()
    return total


if __name__ == "__main__":
    model = Seq2Seq(nn.Linear(16, 32), nn.Linear(32, 16))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = [(torch.randn(8, 16), torch.randn(8, 16)) for _ in range(4)]
    for src, tgt in data:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(src), tgt).backward()
        optimizer.step()
    print(validate(model, data, nn.MSELoss()))
