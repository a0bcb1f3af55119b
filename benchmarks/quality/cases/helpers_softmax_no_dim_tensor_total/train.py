import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_split(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 12, generator=g)
    y = (x[:, 0] * 2 + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return TensorDataset(x, y)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    total_loss = 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total_loss += loss
    return total_loss / len(loader)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    confidences, correct = [], 0
    for x, y in loader:
        probs = F.softmax(model(x))
        conf, pred = probs.max(dim=1)
        confidences.append(conf.mean().item())
        correct += (pred == y).sum().item()
    return correct / len(loader.dataset), sum(confidences) / len(confidences)


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(make_split(384, 0), batch_size=32, shuffle=True)
    val_loader = DataLoader(make_split(96, 1), batch_size=96)
    model = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Dropout(0.2), nn.Linear(48, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        train_loss = train_one_epoch(model, train_loader, optimizer, criterion)
        acc, conf = evaluate(model, val_loader)
        print(f"epoch {epoch}: train {float(train_loss):.4f} acc {acc:.3f} conf {conf:.3f}")


if __name__ == "__main__":
    main()
