"""A model the library ships: every hidden layer starts with the same constant weight."""

import torch.nn as nn


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(16, 32)
        self.head = nn.Linear(32, 2)
        nn.init.constant_(self.hidden.weight, 0.5)  # TL401

    def forward(self, x):
        return self.head(self.hidden(x).relu())
