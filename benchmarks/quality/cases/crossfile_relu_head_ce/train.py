import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import make_classifier


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def main():
    torch.manual_seed(0)
    x = torch.randn(360, 14)
    y = torch.randint(0, 5, (360,))
    x[torch.arange(360), y] += 1.0
    loader = DataLoader(TensorDataset(x, y), batch_size=36, shuffle=True)
    model = make_classifier(14, 5)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        print(f"epoch {epoch}: {train_one_epoch(model, loader, optimizer, criterion):.4f}")


if __name__ == "__main__":
    main()
