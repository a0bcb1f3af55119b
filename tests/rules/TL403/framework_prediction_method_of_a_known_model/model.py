"""A bag-level relation classifier with dropout."""

import torch
import torch.nn as nn


class BagAttention(nn.Module):
    def __init__(self, hidden: int = 32, classes: int = 5) -> None:
        super().__init__()
        self.encoder = nn.Linear(16, hidden)
        self.drop = nn.Dropout()
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(torch.relu(self.encoder(x))))
