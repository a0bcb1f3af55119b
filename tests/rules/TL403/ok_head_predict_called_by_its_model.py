"""A classification head has its own `predict`, but it is a part of the classifier: the
classifier's `predict` calls it on its features, and whoever runs the classifier sets the mode."""

import torch
import torch.nn as nn


class LinearHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(feats))

    def predict(self, feats: torch.Tensor) -> torch.Tensor:
        scores = self(feats)
        return scores.softmax(dim=1)


HEADS = {"linear": LinearHead}


class Classifier(nn.Module):
    def __init__(self, head: str = "linear") -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU())
        self.head = HEADS[head](64, 10)  # (the head's class is picked by name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.predict(self.backbone(x))
