"""A batch split into micro-batches: the inner loop only runs backward(); clearing and stepping
belong to the outer one.

Shape: a `train_one_epoch()` helper holds the batch loop; `main()` calls it once per epoch.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        for mx, my in zip(x.chunk(4), y.chunk(4)):
            loss = criterion(model(mx), my) / 4
            loss.backward()
        optimizer.step()


def main():
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accum_steps = 4
    for epoch in range(3):
        train_one_epoch(model, loader, optimizer, criterion)


main()
