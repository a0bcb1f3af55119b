import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import lightning as L


class GRUClassifier(nn.Module):
    def __init__(self, in_dim=4, hidden=32, n_classes=3, p_drop=0.3):
        super().__init__()
        self.p_drop = p_drop
        self.rnn = nn.GRU(in_dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, n_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        feat = F.dropout(out[:, -1], p=self.p_drop)
        return self.fc(feat)


def make_series(n, seed, length=20, in_dim=4):
    """Class = which channel carries a slow trend."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = 0.5 * torch.randn(n, length, in_dim, generator=g)
    trend = torch.linspace(-1.0, 1.0, length)
    x[torch.arange(n), :, y] += trend
    return TensorDataset(x, y)


def train(fabric, model, optimizer, scheduler, loader, epoch):
    model.train()
    total, n = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        fabric.backward(loss)
        fabric.clip_gradients(model, optimizer, clip_val=0.5)
        optimizer.step()
        scheduler.step()
        total += loss.item() * len(y)
        n += len(y)
    return total / n


@torch.no_grad()
def validate(model, loader):
    model.eval()
    hits, n = 0, 0
    for x, y in loader:
        hits += (model(x).argmax(1) == y).sum().item()
        n += len(y)
    return hits / n


def main():
    fabric = L.Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(123)
    train_loader = DataLoader(make_series(1200, seed=1), batch_size=32, shuffle=True)
    val_loader = DataLoader(make_series(300, seed=2), batch_size=100)

    model = GRUClassifier()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=2e-3)
    epochs = 4
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=5e-3, total_steps=epochs * len(train_loader))
    model, optimizer = fabric.setup(model, optimizer)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)

    for epoch in range(epochs):
        loss = train(fabric, model, optimizer, scheduler, train_loader, epoch)
        acc = validate(model, val_loader)
        fabric.print(f"epoch {epoch} | loss {loss:.4f} | val acc {acc:.3f}")


if __name__ == "__main__":
    main()
