"""A (B, T, C) sequence handed to Conv1d, which wants (B, C, T): `view` relabels, it does not transpose."""

import torch.nn as nn


class TemporalConv(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        batch, steps, channels = x.size()
        x = x.view(batch, channels, steps)  # TL407
        return self.conv(x)
