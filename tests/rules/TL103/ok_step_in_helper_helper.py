"""The parameters are updated with a helper that calls `optimizer.step()` and `zero_grad()`.

Shape: a `train_one_epoch()` helper holds the batch loop; `main()` calls it once per epoch.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
def apply_update(optimizer):
    optimizer.step()
    optimizer.zero_grad()


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y)
        loss.backward()
        apply_update(optimizer)


def main():
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accum_steps = 4
    for epoch in range(3):
        train_one_epoch(model, loader, optimizer, criterion)


main()
