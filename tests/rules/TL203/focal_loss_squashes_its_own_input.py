"""A focal loss built on `BCELoss` whose weight takes `torch.sigmoid(input)`: the function itself
treats `input` as logits, so `BCELoss` gets values outside [0, 1]."""

import torch
import torch.nn as nn


class FocalLoss(nn.Module):
    def __init__(self, gamma: float = 2.0) -> None:
        super().__init__()
        self.gamma = gamma
        self.bce = nn.BCELoss(reduction="none")

    def forward(self, input, target):
        loss = self.bce(input, target)  # TL203
        return (loss * torch.abs(target - torch.sigmoid(input)) ** self.gamma).mean()


head = nn.Linear(8, 1)
criterion = FocalLoss()
optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
for step in range(100):
    x, y = torch.randn(32, 8), torch.randint(0, 2, (32, 1)).float()
    loss = criterion(head(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
