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



def merge_in_order(x: torch.Tensor) -> torch.Tensor:
    b, t, c = x.shape
    return x.view(b, -1) + x.reshape(-1, c).sum() + x.view(b, t, -1).sum()


def buffer_merged_in_order(batch: int, steps: int, dim: int) -> torch.Tensor:
    buf = torch.zeros(batch, steps, dim)
    return buf.view(batch, -1)


def heads_moved_first(n_heads: int, batch: int, length: int, dim: int) -> torch.Tensor:
    heads = torch.zeros(n_heads, batch, length, dim)
    return heads.permute(1, 2, 0, 3).reshape(batch, length, -1)


def sizes_read_one_by_one(encoded: torch.Tensor) -> torch.Tensor:
    batch_size = encoded.size(0)
    channels = encoded.shape[1]
    num_pixels = encoded.shape[2] * encoded.shape[3]
    flat = encoded.view(batch_size, channels, num_pixels)
    return flat.permute(0, 2, 1) + encoded.view(batch_size, -1).sum()
