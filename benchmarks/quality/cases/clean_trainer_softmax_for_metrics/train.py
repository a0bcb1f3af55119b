import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, train_loader, val_loader, lr=1e-3):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)

    def _step(self, batch):
        x, y = batch
        self.optimizer.zero_grad()
        logits = self.model(x)
        loss = self.criterion(logits, y)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            confidence = F.softmax(logits, dim=-1).max(dim=-1).values.mean()
        return loss.item(), confidence.item()

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        correct, brier = 0, 0.0
        for x, y in self.val_loader:
            probs = torch.softmax(self.model(x), dim=1)
            correct += (probs.argmax(dim=1) == y).sum().item()
            brier += ((probs - F.one_hot(y, probs.size(1))) ** 2).sum().item()
        n = len(self.val_loader.dataset)
        return correct / n, brier / n

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.train_loader:
                loss, conf = self._step(batch)
            acc, brier = self.validate()
            print(f"epoch {epoch}: loss {loss:.3f} conf {conf:.3f} acc {acc:.3f} brier {brier:.3f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(360, 18)
    y = x[:, :6].argmax(dim=1)
    train = DataLoader(TensorDataset(x[:300], y[:300]), batch_size=30, shuffle=True)
    val = DataLoader(TensorDataset(x[300:], y[300:]), batch_size=60)
    model = nn.Sequential(nn.Linear(18, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 6))
    Trainer(model, train, val).fit(2)
