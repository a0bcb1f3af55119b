"""The same shared trainer, but one script gives it a model without dropout or batch norm:
whether the mode matters depends on the run, so nothing is reported."""

import torch
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer, train_loader, val_loader, interval=100):
        self.model = model
        self.optim = optimizer
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.interval = interval

    def validate(self):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in self.val_loader:
                correct += (self.model(x).argmax(1) == y).sum().item()
        return correct

    def train_epoch(self):
        self.model.train()
        for i, (x, y) in enumerate(self.train_loader):
            if i % self.interval == 0:
                self.validate()
            self.optim.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.optim.step()
