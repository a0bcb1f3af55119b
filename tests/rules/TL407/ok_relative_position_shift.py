"""The relative-position shift of Transformer-XL-style attention: the scores are reshaped with
their last two sizes swapped, the first row is dropped, and the result is reshaped back. The
relabelling is the trick (each row then starts one relative position further), not a
transpose written as a view."""

import torch
import torch.nn as nn


def relative_shift(scores: torch.Tensor, shift: int = 1) -> torch.Tensor:
    batch, heads, queries, positions = scores.shape
    scores = torch.reshape(scores, [batch, heads, positions, queries])  # ok: the shift trick
    scores = scores[:, :, shift:, :]
    scores = torch.reshape(scores, [batch, heads, queries, positions - shift])
    return scores[..., :queries]


class RelativeAttention(nn.Module):
    def __init__(self, dim: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.positions = nn.Parameter(torch.randn(2 * max_len, dim // heads))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        content = q @ k.transpose(-1, -2)
        position = relative_shift(q @ self.positions[: 2 * n].T)
        weights = (content + position).softmax(dim=-1)
        return (weights @ v).transpose(1, 2).reshape(b, n, d)
