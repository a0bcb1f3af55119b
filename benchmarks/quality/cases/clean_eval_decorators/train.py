import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class BNClassifier(nn.Module):
    def __init__(self, d_in=16, n_classes=3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, n_classes)
        )

    def forward(self, x):
        return self.net(x)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return loss.item()


@torch.no_grad()
def evaluate(model, loader, criterion):
    model.eval()
    total, correct = 0.0, 0
    for x, y in loader:
        logits = model(x)
        total += criterion(logits, y).item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
    model.train()
    return total / len(loader.dataset), correct / len(loader.dataset)


@torch.inference_mode()
def predict(model, inputs):
    model.eval()
    return model(inputs).argmax(dim=1)


def main():
    torch.manual_seed(0)
    x = torch.randn(400, 16)
    y = torch.randint(0, 3, (400,))
    x[torch.arange(400), y] += 1.5
    train_loader = DataLoader(TensorDataset(x[:320], y[:320]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[320:], y[320:]), batch_size=40)
    model = BNClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        train_loss = train_one_epoch(model, train_loader, optimizer, criterion)
        val_loss, val_acc = evaluate(model, val_loader, criterion)
        print(f"epoch {epoch}: train {train_loss:.3f} val {val_loss:.3f} acc {val_acc:.3f}")
    print("predictions:", predict(model, torch.randn(5, 16)).tolist())


if __name__ == "__main__":
    main()
