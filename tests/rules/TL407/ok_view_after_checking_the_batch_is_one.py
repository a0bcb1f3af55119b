"""Group statistics of a single example: the batch size is checked to be 1 first, so viewing
(batch, chans, h, w) as (chans, -1) only drops the batch axis."""

from typing import Tuple

import torch
import torch.nn as nn


class NormStats(nn.Module):
    def forward(self, data: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        batch, chans, _, _ = data.shape
        if batch != 1:
            raise ValueError("Unexpected input dimensions.")
        data = data.view(chans, -1)
        return data.mean(dim=1), data.var(dim=1, unbiased=False)
