"""Gradient accumulation with a per-epoch StepLR schedule."""
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

ACCUM_STEPS = 4


def build_loader():
    x = torch.randn(480, 16)
    y = (x[:, :2].sum(dim=1) > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    optimizer.zero_grad()
    running = 0.0
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y) / ACCUM_STEPS
        loss.backward()
        if (i + 1) % ACCUM_STEPS == 0 or (i + 1) == len(loader):
            optimizer.step()
            optimizer.zero_grad()
        running += loss.item() * ACCUM_STEPS
    return running / len(loader)


def main():
    torch.manual_seed(0)
    loader = build_loader()
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        loss = train_one_epoch(model, loader, optimizer, criterion)
        scheduler.step()
        print(f"epoch {epoch}: loss {loss:.4f} lr {scheduler.get_last_lr()[0]:.4f}")


if __name__ == "__main__":
    main()
