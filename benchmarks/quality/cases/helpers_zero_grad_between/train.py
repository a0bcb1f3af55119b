import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset


def make_loaders(batch_size=32):
    x = torch.randn(320, 10)
    w = torch.randn(10, 1)
    y = x @ w + 0.1 * torch.randn(320, 1)
    train = TensorDataset(x[:256], y[:256])
    val = TensorDataset(x[256:], y[256:])
    return (
        DataLoader(train, batch_size=batch_size, shuffle=True),
        DataLoader(val, batch_size=batch_size),
    )


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    epoch_loss = 0.0
    for inputs, targets in loader:
        preds = model(inputs)
        loss = criterion(preds, targets)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        epoch_loss += loss.item()
    return epoch_loss / len(loader)


def evaluate(model, loader, criterion):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for inputs, targets in loader:
            total += criterion(model(inputs), targets).item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    train_loader, val_loader = make_loaders()
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()
    for epoch in range(2):
        train_loss = train_one_epoch(model, train_loader, optimizer, criterion)
        val_loss = evaluate(model, val_loader, criterion)
        print(f"epoch {epoch} train {train_loss:.4f} val {val_loss:.4f}")


if __name__ == "__main__":
    main()
