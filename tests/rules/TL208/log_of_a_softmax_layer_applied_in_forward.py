"""A softmax layer built in `__init__` (here `nn.Softmax2d`), applied in `forward`, then logged."""

import torch
import torch.nn as nn


class SegmentationHead(nn.Module):
    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.score = nn.Conv2d(channels, classes, 1)
        self.softmax = nn.Softmax2d()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.score(x)
        probs = self.softmax(scores)
        return torch.log(probs)  # TL208
