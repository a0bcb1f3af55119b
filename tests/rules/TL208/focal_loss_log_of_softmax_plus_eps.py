"""A focal loss takes the softmax, adds an epsilon, masks out ignored labels and then takes
the log, weighted by one-hot targets: `F.log_softmax` gives the same log-probabilities without
the bias and keeps the gradient of the worst predictions."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class FocalLoss(nn.Module):
    def __init__(self, alpha=0.25, gamma=2.0, ignore_index=-100):
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.ignore_index = ignore_index
        self.eps = 1e-6

    def forward(self, input, target):
        input_soft = F.softmax(input, dim=1) + self.eps
        mask = target != self.ignore_index
        target = target[mask]
        input_soft = input_soft[mask]
        one_hot = F.one_hot(target, num_classes=input.shape[1]).type(input_soft.dtype)
        weight = torch.pow(1.0 - input_soft, self.gamma)
        focal = -self.alpha * weight * torch.log(input_soft)  # TL208
        return torch.sum(one_hot * focal, dim=1).mean()


def soft_target_loss(logits, soft_targets):
    return -(soft_targets * torch.log(F.softmax(logits, dim=-1) + 1e-8)).sum(-1).mean()  # TL208
