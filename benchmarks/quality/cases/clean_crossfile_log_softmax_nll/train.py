import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import LeNetish


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        log_probs = model(images)
        loss = criterion(log_probs, labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def accuracy(model, loader):
    model.eval()
    hits = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    return hits / len(loader.dataset)


def main():
    torch.manual_seed(0)
    images = torch.randn(320, 1, 14, 14)
    labels = torch.randint(0, 4, (320,))
    images[labels == 1, :, :7] += 1.0
    images[labels == 2, :, 7:] += 1.0
    train_loader = DataLoader(TensorDataset(images[:256], labels[:256]), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(images[256:], labels[256:]), batch_size=64)
    model = LeNetish()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.NLLLoss()
    for epoch in range(2):
        loss = train_one_epoch(model, train_loader, optimizer, criterion=criterion)
        print(f"epoch {epoch}: loss {loss:.4f} acc {accuracy(model, test_loader):.3f}")


if __name__ == "__main__":
    main()
