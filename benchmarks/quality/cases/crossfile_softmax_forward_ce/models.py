import torch.nn as nn
import torch.nn.functional as F


class DigitClassifier(nn.Module):
    """Small MLP over flattened 8x8 images, returning class probabilities."""

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.out = nn.Linear(64, n_classes)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.out(x), dim=1)
