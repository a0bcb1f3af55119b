"""A sinusoidal position table made with `torch.zeros` and "frozen" with a misspelt flag (the
misspelling is real, though here harmless: a new tensor does not require gradients anyway),
beside a parameter whose misspelt flag leaves it trainable."""

import math

import torch
import torch.nn as nn


class PositionalEmbedding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        pe = torch.zeros(max_len, d_model).float()
        pe.require_grad = False  # TL605
        position = torch.arange(0, max_len).float().unsqueeze(1)
        div = (torch.arange(0, d_model, 2).float() * -(math.log(10000.0) / d_model)).exp()
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        pe = pe.unsqueeze(0)
        self.register_buffer("pe", pe)
        self.scale = nn.Parameter(torch.ones(1))
        self.scale.require_grad = False  # TL605

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * self.pe[:, : x.size(1)]
