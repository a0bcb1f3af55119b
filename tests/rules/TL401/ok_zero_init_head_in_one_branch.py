"""A head initialised at random by default and with zeros when asked (a known recipe for
fine-tuning): the two inits are alternatives, not one overwriting the other."""

import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, in_features, num_classes, zero_head=False):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_features, 64), nn.ReLU())
        self.head = nn.Linear(64, num_classes)
        if zero_head:
            nn.init.zeros_(self.head.weight)
        else:
            nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        return self.head(self.backbone(x))
