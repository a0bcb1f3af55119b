"""A framework-style base model: its shared step feeds `self(x)` to `self.criterion`, and
both the criterion and `forward` are left to each concrete model (defined in another module).
"""

from abc import ABC, abstractmethod

import torch.nn as nn


class ClassifierBase(nn.Module, ABC):
    def __init__(self, n_classes):
        super().__init__()
        self.n_classes = n_classes

    @abstractmethod
    def forward(self, x):
        pass

    def step(self, batch):
        inputs, labels = batch
        scores = self.forward(inputs)
        return self.criterion(scores, labels)

    def training_step(self, batch, batch_idx):
        return self.step(batch)
