"""Reshapes real models make: head splits, flattening, a permute first, a rebound tensor."""

import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        out = qkv[0].transpose(1, 2).reshape(B, N, C)
        return out.view(B, N, C)


def channels_last(feats: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feats.shape
    feats = feats.permute(0, 2, 3, 1)
    return feats.reshape(n, h, w, c)  # the permute moved the data first


def channels_last_inline(feats: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feats.shape
    return feats.permute(0, 2, 3, 1).contiguous().view(n, h, w, c)


def flatten(feats: torch.Tensor) -> torch.Tensor:
    b, c, h, w = feats.size()
    return feats.view(b, c, h * w)


def other_tensor(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    b, t, c = x.shape
    return y.view(b, c, t)  # y's shape is not known here


def in_place_transpose(x: torch.Tensor) -> torch.Tensor:
    b, t, c = x.shape
    x.transpose_(1, 2)
    return x.view(b, c, t)


def partial_unpack(x: torch.Tensor) -> torch.Tensor:
    b, t, _ = x.shape
    return x.view(t, b, -1)
