import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer

    def fit(self, train_loader, val_loader, epochs):
        for epoch in range(epochs):
            self.model.train()
            for x, y in train_loader:
                self.optimizer.zero_grad()
                F.cross_entropy(self.model(x), y).backward()
                self.optimizer.step()
            self.model.eval()
            with torch.no_grad():
                self.validate(val_loader)

    def validate(self, loader):
        return self.evaluate(loader)

    def test(self, loader):
        self.model.eval()
        with torch.no_grad():
            return self.evaluate(loader)

    def evaluate(self, loader):
        raise NotImplementedError("each task scores its own way")


class ClassifierTrainer(Trainer):
    def evaluate(self, loader):
        correct = 0
        for x, y in loader:
            correct += (self.model(x).argmax(1) == y).sum().item()
        return correct


model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
trainer = ClassifierTrainer(model, torch.optim.SGD(model.parameters(), lr=0.1))
data = [(torch.randn(4, 8), torch.randint(0, 3, (4,))) for _ in range(5)]
trainer.fit(data, data, epochs=2)
print(trainer.test(data))
