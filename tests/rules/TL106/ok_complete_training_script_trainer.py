"""A complete, correct training script: AMP with unscale_ and clipping, a per-batch scheduler,
validation at the end of each epoch.

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
        self.scaler = torch.amp.GradScaler("cuda")
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, max_lr=0.1, total_steps=300)

    def _step(self, batch):
        x, y = batch
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            out = self.model(x)
            loss = self.criterion(out, y)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm=1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.loader:
                self._step(batch)
                self.global_step += 1
            self.model.eval()
            correct = 0
            with torch.no_grad():
                for vx, vy in val_loader:
                    correct += (self.model(vx).argmax(dim=1) == vy).sum().item()
            self.model.train()


Trainer(loader).fit(3)
