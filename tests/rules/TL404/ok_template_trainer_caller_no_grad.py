"""The same trainer base class, which calls each subclass's `self._valid_epoch()` under
`torch.no_grad()`: the subclass's validation loop records no graph."""
import torch

from models import load_model


class Trainer:
    def __init__(self, config, loader, val_loader):
        Model = load_model(config.model)
        self.model = Model(config.features)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr)
        self.loader, self.val_loader = loader, val_loader

    def train(self, epochs):
        for epoch in range(epochs):
            self._train_epoch(epoch)
            with torch.no_grad():
                scores = self._valid_epoch()
            print(f"epoch {epoch}: {scores}")


class ContrastiveTrainer(Trainer):
    def _train_epoch(self, epoch):
        self.model.train()
        for a, b in self.loader:
            self.optimizer.zero_grad()
            loss = (self.model(a) - self.model(b)).pow(2).mean()
            loss.backward()
            self.optimizer.step()

    def _valid_epoch(self):
        self.model.eval()
        total = 0.0
        for a, b in self.val_loader:
            fa = self.model(a)
            total += (fa - self.model(b)).pow(2).mean().item()
        return total
