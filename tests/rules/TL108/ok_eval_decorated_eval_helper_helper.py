"""Evaluation: an `@torch.no_grad()` evaluation helper called at the end of each epoch.

Shape: a `train_one_epoch()` helper holds the batch loop; `main()` calls it once per epoch.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(dim=1) == y).sum().item() for x, y in loader)
    model.train()
    return correct


@torch.inference_mode()
def predict(model, x):
    return model(x).softmax(dim=1)


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()


def main():
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accum_steps = 4
    for epoch in range(3):
        train_one_epoch(model, loader, optimizer, criterion)
        accuracy = evaluate(model, val_loader)


main()
