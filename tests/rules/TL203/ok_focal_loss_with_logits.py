"""The twin: the focal loss uses `BCEWithLogitsLoss` on the logits, and a second one squashes
its input once and feeds `BCELoss` the probabilities it made."""

import torch
import torch.nn as nn


class FocalLoss(nn.Module):
    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma
        self.bce = nn.BCEWithLogitsLoss(reduction="none")

    def forward(self, input, target):
        loss = self.bce(input, target)
        return (loss * torch.abs(target - torch.sigmoid(input)) ** self.gamma).mean()


class ProbabilityFocalLoss(nn.Module):
    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma
        self.bce = nn.BCELoss(reduction="none")

    def forward(self, input, target):
        input = torch.sigmoid(input)
        loss = self.bce(input, target)
        return (loss * torch.abs(target - input) ** self.gamma).mean()


head = nn.Linear(8, 1)
criterion = FocalLoss()
other = ProbabilityFocalLoss()
optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
for step in range(100):
    x, y = torch.randn(32, 8), torch.randint(0, 2, (32, 1)).float()
    loss = criterion(head(x), y) + other(head(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
