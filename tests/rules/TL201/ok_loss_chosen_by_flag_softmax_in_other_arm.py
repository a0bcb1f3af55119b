"""A head whose loss depends on a flag fixed in __init__: cross-entropy on raw scores in one
arm, and, in the other arm, a mean squared error between softmax distributions (a soft target).
The softmax never reaches the cross-entropy: the same test selects the MSELoss there.
"""

import torch.nn as nn
import torch.nn.functional as F


class PolicyHead(nn.Module):
    def __init__(self, hidden, n_actions, hard_targets=True):
        super().__init__()
        self.hard_targets = hard_targets
        self.fc = nn.Linear(hidden, n_actions)
        if self.hard_targets:
            self.head_loss = nn.CrossEntropyLoss()
        else:
            self.head_loss = nn.MSELoss()

    def forward(self, h, target):
        scores = self.fc(h)
        if self.hard_targets:
            loss = self.head_loss(scores, target)  # ok: raw scores
        else:
            loss = self.head_loss(F.softmax(scores, dim=-1), target)  # ok: the MSELoss arm
        return loss
