import torch
import torch.nn as nn
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader, TensorDataset


def get_loader():
    x = torch.randn(256, 12)
    y = torch.randint(0, 3, (256,))
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)


def train_one_epoch(model, loader, optimizer, scheduler, criterion):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        scheduler.step()
        optimizer.step()
    return loss.item()


def main():
    torch.manual_seed(0)
    epochs = 2
    loader = get_loader()
    model = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Linear(48, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=epochs, steps_per_epoch=len(loader))
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        last = train_one_epoch(model, loader, optimizer, scheduler, criterion)
        print(f"epoch {epoch} last batch loss {last:.4f} lr {scheduler.get_last_lr()[0]:.4f}")


if __name__ == "__main__":
    main()
