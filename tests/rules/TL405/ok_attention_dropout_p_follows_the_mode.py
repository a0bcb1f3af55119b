"""Attention dropout rates that follow the module's mode: inline, through a local name, or
zero; and a rate the caller passes in (the caller decides)."""

import torch.nn as nn
import torch.nn.functional as F


class Inline(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)


class ThroughAName(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        p = 0.0 if not self.training else self.p
        return F.scaled_dot_product_attention(q, k, v, None, p)


class Zero(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=True)


class Given(nn.Module):
    def forward(self, q, k, v, dropout_p=0.0):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
