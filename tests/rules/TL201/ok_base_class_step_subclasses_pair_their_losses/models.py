"""Near misses of a subclass softmax fed to an inherited cross-entropy step: raw logits into
CrossEntropyLoss, log_softmax into NLLLoss, and a softmax model that overrides the step and
takes the log of its probabilities for an NLL loss itself.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from base import ClassifierBase


class LogitsNet(ClassifierBase):
    def __init__(self):
        super().__init__()
        self.criterion = nn.CrossEntropyLoss()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(x)  # ok: raw scores


class LogProbNet(ClassifierBase):
    def __init__(self):
        super().__init__()
        self.criterion = nn.NLLLoss()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)  # ok: NLLLoss expects log-probabilities


class ProbNet(ClassifierBase):
    def __init__(self):
        super().__init__()
        self.criterion = nn.CrossEntropyLoss()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return torch.softmax(self.fc(x), dim=1)  # ok: the inherited step is overridden below

    def step(self, batch):
        inputs, labels = batch
        return F.nll_loss(torch.log(self(inputs) + 1e-8), labels)
