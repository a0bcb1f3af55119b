"""A log-softmax layer applied in `forward`, and a log of a layer that is not a softmax."""

import torch
import torch.nn as nn


class SegmentationHead(nn.Module):
    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.score = nn.Conv2d(channels, classes, 1)
        self.log_softmax = nn.LogSoftmax(dim=1)
        self.act = nn.Softplus()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.score(x)
        rate = torch.log(self.act(scores))
        return self.log_softmax(scores) + rate
