"""A base model whose shared step applies each subclass's criterion to `self(x)`; the
subclasses pair their outputs with a matching loss or train through their own step.
"""

import torch.nn as nn


class ClassifierBase(nn.Module):
    def step(self, batch):
        inputs, labels = batch
        return self.criterion(self(inputs), labels)

    def training_step(self, batch, batch_idx):
        return self.step(batch)
