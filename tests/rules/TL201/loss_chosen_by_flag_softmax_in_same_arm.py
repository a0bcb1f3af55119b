"""An auxiliary head (an inverse-dynamics model of a curiosity module) whose loss is chosen in
__init__ by the action space: CrossEntropyLoss for discrete actions, MSELoss otherwise. forward
tests the same flag and, in the discrete arm, feeds softmax probabilities to the cross-entropy.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class InverseHead(nn.Module):
    def __init__(self, feat_dim, n_actions, action_kind):
        super().__init__()
        self.action_kind = action_kind
        self.body = nn.Linear(2 * feat_dim, 64)
        self.out = nn.Linear(64, n_actions)
        if self.action_kind == "discrete":
            self.aux_loss = nn.CrossEntropyLoss()
        else:
            self.aux_loss = nn.MSELoss()

    def forward(self, feat, next_feat, action):
        h = F.relu(self.body(torch.cat([feat, next_feat], dim=1)))
        if self.action_kind == "discrete":
            pred = F.softmax(self.out(h), dim=1)
            loss = self.aux_loss(pred, action.long())  # TL201
        else:
            pred = self.out(h)
            loss = self.aux_loss(pred, action)
        return loss
