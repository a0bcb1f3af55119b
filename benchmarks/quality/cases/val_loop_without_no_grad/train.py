import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def get_loaders():
    x = torch.randn(500, 14)
    y = (x[:, 0] * x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:400], y[:400]), batch_size=40, shuffle=True)
    val = DataLoader(TensorDataset(x[400:], y[400:]), batch_size=50)
    return train, val


def main():
    torch.manual_seed(0)
    train_loader, val_loader = get_loaders()
    model = nn.Sequential(nn.Linear(14, 64), nn.ReLU(), nn.Linear(64, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()

        model.eval()
        val_loss, correct = 0.0, 0
        for xb, yb in val_loader:
            logits = model(xb)
            val_loss += criterion(logits, yb).item()
            correct += (logits.argmax(1) == yb).sum().item()
        print(f"epoch {epoch}: val loss {val_loss / len(val_loader):.4f} acc {correct / 100:.3f}")


if __name__ == "__main__":
    main()
