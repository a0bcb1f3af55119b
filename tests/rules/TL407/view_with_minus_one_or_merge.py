"""A `-1` standing for one axis, or several axes merged, does not hide a relabelling: the named
sizes still come in another order than the axes they were read from."""

import torch
import torch.nn as nn


class ProbAttention(nn.Module):
    def forward(self, queries, keys):
        B, L_Q, H, D = queries.shape
        _, L_K, _, _ = keys.shape
        queries = queries.view(B, H, L_Q, -1)  # TL407
        keys = keys.view(B, H, L_K, -1)
        return queries @ keys.transpose(-2, -1)


def partial_unpack(x: torch.Tensor) -> torch.Tensor:
    b, t, _ = x.shape
    return x.view(t, b, -1)  # TL407


class MultiHead(nn.Module):
    def __init__(self, n_heads: int, dim: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.value_dim = dim
        self.heads_fc = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_heads))
        self.fc_out = nn.Linear(n_heads * dim, dim)

    def forward(self, x):
        batch_size, length = x.shape[0], x.shape[1]
        heads = torch.zeros(self.n_heads, batch_size, length, self.value_dim)
        for i in range(self.n_heads):
            heads[i] = self.heads_fc[i](x)
        x = heads.view(batch_size, length, -1)  # TL407
        return self.fc_out(x)


def pixels_first(encoded: torch.Tensor) -> torch.Tensor:
    batch_size = encoded.shape[0]
    features = encoded.shape[1]
    num_pixels = encoded.shape[2] * encoded.shape[3]
    return encoded.view(batch_size, num_pixels, features)  # TL407
