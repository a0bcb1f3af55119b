"""Gradient accumulation: the scheduler steps right after the optimizer, every `accum_steps`
batches.

Shape: a `Trainer` class: the step in `_step()`, the loops in `fit()`, every object on `self`.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)


class Trainer:
    def __init__(self, loader):
        self.loader = loader
        self.global_step = 0
        self.model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.criterion = nn.CrossEntropyLoss()
        self.accum_steps = 4
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=0.1, total_steps=300)

    def _step(self, batch):
        x, y = batch
        loss = self.criterion(self.model(x), y) / self.accum_steps
        loss.backward()
        if (self.global_step + 1) % self.accum_steps == 0:
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad()

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.loader:
                self._step(batch)
                self.global_step += 1


Trainer(loader).fit(3)
