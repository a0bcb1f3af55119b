import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import DigitClassifier


def synthetic_digits(n, seed):
    g = torch.Generator().manual_seed(seed)
    prototypes = torch.randn(10, 1, 8, 8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = prototypes[labels] + 0.3 * torch.randn(n, 1, 8, 8, generator=g)
    return TensorDataset(images, labels)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total_loss, seen = 0.0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * labels.size(0)
        seen += labels.size(0)
    return total_loss / seen


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = 0
    for images, labels in loader:
        correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(synthetic_digits(512, 0), batch_size=64, shuffle=True)
    test_loader = DataLoader(synthetic_digits(128, 1), batch_size=128)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(2):
        loss = train_one_epoch(model, train_loader, optimizer, criterion=criterion)
        print(f"epoch {epoch}: loss {loss:.4f} test acc {evaluate(model, test_loader):.3f}")


if __name__ == "__main__":
    main()
