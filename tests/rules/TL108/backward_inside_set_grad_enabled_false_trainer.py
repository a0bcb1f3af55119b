"""Forward, loss and backward all inside `with torch.set_grad_enabled(False):`.

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

    def _step(self, batch):
        x, y = batch
        self.optimizer.zero_grad()
        with torch.set_grad_enabled(False):
            out = self.model(x)
            loss = self.criterion(out, y)
            loss.backward()  # TL108
        self.optimizer.step()

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.loader:
                self._step(batch)
                self.global_step += 1


Trainer(loader).fit(3)
