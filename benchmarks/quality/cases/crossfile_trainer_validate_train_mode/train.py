import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import WideDeep


class Trainer:
    def __init__(self, model, train_loader, val_loader):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        self.criterion = nn.CrossEntropyLoss()

    def _step(self, batch):
        x, y = batch
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def validate(self):
        correct = 0
        with torch.no_grad():
            for x, y in self.val_loader:
                correct += (self.model(x).argmax(dim=1) == y).sum().item()
        return correct / len(self.val_loader.dataset)

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            losses = []
            for batch in self.train_loader:
                losses.append(self._step(batch))
            print(f"epoch {epoch}: loss {sum(losses) / len(losses):.4f} val acc {self.validate():.3f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(500, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    train = DataLoader(TensorDataset(x[:400], y[:400]), batch_size=40, shuffle=True)
    val = DataLoader(TensorDataset(x[400:], y[400:]), batch_size=100)
    Trainer(WideDeep(10, 3), train, val).fit(2)
