"""The same heads written right: the channels are moved last before the view, so each row
holds one anchor's values. A feature map flattened per channel (`view(n, c, -1)`) and a
grouping by a size the convolution does not multiply are not reported either."""

import torch
import torch.nn as nn


class RegressionModel(nn.Module):
    def __init__(self, num_features_in, num_anchors=9, feature_size=64):
        super().__init__()
        self.conv1 = nn.Conv2d(num_features_in, feature_size, kernel_size=3, padding=1)
        self.output = nn.Conv2d(feature_size, num_anchors * 4, kernel_size=3, padding=1)
        self.proj = nn.Conv2d(feature_size, feature_size, kernel_size=1)

    def forward(self, x):
        out = self.output(self.conv1(x))
        out = out.permute(0, 2, 3, 1)
        boxes = out.contiguous().view(x.shape[0], -1, 4)
        feats = self.proj(self.conv1(x))
        per_channel = feats.view(x.shape[0], feats.shape[1], -1)
        return boxes, per_channel


boxes, feats = RegressionModel(16)(torch.randn(2, 16, 8, 8))
