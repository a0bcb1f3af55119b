"""The same token mixer moving the channels back with `permute`, and a variant whose Linear
output is flattened to tokens (a merge of the leading axes, which keeps their order)."""

import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int = 4) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.attention_dim = heads * self.head_dim
        self.qkv = nn.Linear(dim, 3 * self.attention_dim)
        self.proj = nn.Linear(self.attention_dim, dim)
        self.proj_drop = nn.Dropout(0.1)

    def mix(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        N = H * W
        qkv = self.qkv(x.permute(0, 2, 3, 1)).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1) * self.head_dim**-0.5).softmax(dim=-1)
        return (attn @ v).transpose(1, 2).reshape(B, H, W, self.attention_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        y = self.mix(x)
        y = self.proj(y)
        y = self.proj_drop(y)
        return y.permute(0, 3, 1, 2)  # ok: the channels are moved

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        y = self.mix(x).reshape(B, H, W, self.attention_dim)
        y = self.proj(y)
        return y.reshape(B, H * W, C)  # ok: merges H and W in order, the channels stay last
