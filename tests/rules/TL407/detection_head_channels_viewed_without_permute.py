"""A RetinaNet head: its last convolution makes `num_anchors * 4` box offsets per position,
and the output `(N, A*4, H, W)` is viewed as `(N, -1, 4)` straight away. In memory the groups
of four run along the width, so each row mixes four positions of one channel instead of
holding the four offsets of one anchor. The classification head does the same through its
sigmoid. (The fix permutes to `(N, H, W, A*4)` first.)"""

import torch
import torch.nn as nn


class RegressionModel(nn.Module):
    def __init__(self, num_features_in, num_anchors=9, feature_size=64):
        super().__init__()
        self.conv1 = nn.Conv2d(num_features_in, feature_size, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.output = nn.Conv2d(feature_size, num_anchors * 4, kernel_size=3, padding=1)

    def forward(self, x):
        out = self.act1(self.conv1(x))
        out = self.output(out)
        return out.view(x.shape[0], -1, 4)  # TL407


class ClassificationModel(nn.Module):
    def __init__(self, num_features_in, num_anchors=9, num_classes=80, feature_size=64):
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(num_features_in, feature_size, kernel_size=3, padding=1)
        self.output = nn.Conv2d(feature_size, num_anchors * num_classes, kernel_size=3, padding=1)
        self.output_act = nn.Sigmoid()

    def forward(self, x):
        out = self.conv1(x)
        out = self.output(out)
        out = self.output_act(out)
        return out.view(x.shape[0], -1, self.num_classes)  # TL407


boxes = RegressionModel(16)(torch.randn(2, 16, 8, 8))
scores = ClassificationModel(16)(torch.randn(2, 16, 8, 8))
