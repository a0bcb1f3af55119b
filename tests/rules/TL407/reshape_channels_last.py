"""Channels-last for a linear head, written as a reshape of an NCHW feature map."""

import torch


def to_tokens(feats: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feats.shape
    tokens = feats.reshape(n, h, w, c)  # TL407
    return tokens.reshape(n, h * w, c)


def to_tokens_tuple(feats: torch.Tensor) -> torch.Tensor:
    n, c, h, w = feats.shape
    return torch.reshape(feats, (n, h, w, c))  # TL407
