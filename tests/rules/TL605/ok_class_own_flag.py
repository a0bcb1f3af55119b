"""A wrapper with its own `require_grad` flag, read by its own methods."""
import torch
import torch.nn as nn


class FeatureExtractor(nn.Module):
    def __init__(self, backbone, require_grad=False):
        super().__init__()
        self.backbone = backbone
        self.require_grad = require_grad

    def forward(self, x):
        if self.require_grad:
            return self.backbone(x)
        with torch.no_grad():
            return self.backbone(x)


extractor = FeatureExtractor(nn.Linear(4, 4))
extractor.require_grad = True
