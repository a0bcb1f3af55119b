import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, loader, lr=1e-3):
        self.model = model
        self.loader = loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.history = []

    def _step(self, batch):
        x, y = batch
        self.optimizer.zero_grad()
        logits = self.model(x)
        probs = logits.softmax(dim=-1)
        loss = self.criterion(probs, y)
        loss.backward()
        self.optimizer.step()
        acc = (probs.argmax(dim=-1) == y).float().mean().item()
        return loss.item(), acc

    def fit(self, epochs):
        for epoch in range(epochs):
            self.model.train()
            for batch in self.loader:
                self.history.append(self._step(batch))
            loss, acc = self.history[-1]
            print(f"epoch {epoch}: loss {loss:.4f} acc {acc:.3f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(400, 30)
    y = torch.randint(0, 6, (400,))
    loader = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True)
    model = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 6))
    Trainer(model, loader).fit(2)
