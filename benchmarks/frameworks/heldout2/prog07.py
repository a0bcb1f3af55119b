"""Sensor-signal classifier trained with Lightning Fabric."""
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch.utils.data import DataLoader, Dataset

HPARAMS = dict(epochs=4, batch_size=32, lr=2e-3, channels=3, length=64, n_classes=4)


class SignalDataset(Dataset):
    def __init__(self, n, channels, length, n_classes, seed):
        g = torch.Generator().manual_seed(seed)
        self.y = torch.randint(0, n_classes, (n,), generator=g)
        t = torch.linspace(0, 1, length)
        freqs = (self.y.float() + 1.0)[:, None, None] * 3.0
        phase = torch.rand(n, channels, 1, generator=g) * 6.28
        self.x = torch.sin(2 * torch.pi * freqs * t + phase) + 0.3 * torch.randn(n, channels, length, generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class TemporalCNN(nn.Module):
    def __init__(self, channels, n_classes):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv1d(channels, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
            nn.Conv1d(32, 64, 5, padding=2, stride=2), nn.BatchNorm1d(64), nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        h = self.encoder(x).mean(dim=-1)
        return self.fc(self.dropout(h))


def train_epoch(fabric, model, loader, optimizer):
    total, n = 0.0, 0
    for x, y in loader:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        fabric.backward(loss)
        optimizer.step()
        total += loss.item() * y.size(0)
        n += y.size(0)
    return total / n


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct, n = 0, 0
    for x, y in loader:
        correct += (model(x).argmax(-1) == y).sum().item()
        n += y.size(0)
    return correct / n


def main():
    hp = HPARAMS
    fabric = Fabric(accelerator="cpu", devices=1)
    fabric.seed_everything(11)

    train_loader = DataLoader(SignalDataset(640, hp["channels"], hp["length"], hp["n_classes"], 0),
                              batch_size=hp["batch_size"], shuffle=True)
    val_loader = DataLoader(SignalDataset(160, hp["channels"], hp["length"], hp["n_classes"], 1),
                            batch_size=80)

    model = TemporalCNN(hp["channels"], hp["n_classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    model, optimizer = fabric.setup(model, optimizer)
    train_loader, val_loader = fabric.setup_dataloaders(train_loader, val_loader)

    model.train()
    for epoch in range(hp["epochs"]):
        train_loss = train_epoch(fabric, model, train_loader, optimizer)
        val_acc = evaluate(model, val_loader)
        fabric.print(f"epoch {epoch} train_loss={train_loss:.4f} val_acc={val_acc:.3f}")

    ckpt = os.path.join(tempfile.mkdtemp(), "tcnn.ckpt")
    fabric.save(ckpt, {"model": model, "optimizer": optimizer, "epoch": hp["epochs"]})
    fabric.print("saved", ckpt)


if __name__ == "__main__":
    main()
