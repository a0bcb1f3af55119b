"""A classifier head drawn with `stddev=0.01`, TensorFlow's spelling: `nn.init.normal_` takes
`std`, so this call raises a TypeError when it runs; it does not draw weights at std 1, and
nothing here can tell which scale was meant."""

import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3), nn.BatchNorm2d(channels), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hidden = nn.Linear(channels, channels)
        self.linear = nn.Linear(channels, num_classes)
        nn.init.normal_(self.hidden.weight, stddev=0.01)  # ok: not std 1, a keyword torch rejects
        nn.init.normal_(self.linear.weight, stddev=0.01)  # ok: not std 1, a keyword torch rejects

    def forward(self, x):
        return self.linear(nn.functional.relu(self.hidden(self.pool(self.stem(x)).flatten(1))))
