"""The models the scripts build by name."""

import torch
import torch.nn as nn


class MemoryNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cell = nn.LSTM(8, 32, batch_first=True)
        self.out = nn.Linear(32, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.cell(x)
        return torch.sigmoid(self.out(hidden))


MODELS = {"ntm": MemoryNet}


def build_model(name: str) -> nn.Module:
    return MODELS[name]()
