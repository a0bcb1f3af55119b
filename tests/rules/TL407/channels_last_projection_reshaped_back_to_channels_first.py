"""A token mixer for NCHW feature maps attends over the H*W positions, lays the result out as
(B, H, W, D), projects it with a Linear (still channels last), then "returns" to NCHW with a
reshape: the channel values are scattered across positions instead of moved."""

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        N = H * W
        qkv = self.qkv(x.permute(0, 2, 3, 1)).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1) * self.head_dim**-0.5).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, H, W, self.attention_dim)
        x = self.proj(x)
        x = self.proj_drop(x)
        x = x.reshape(B, C, H, W)  # TL407
        return x
