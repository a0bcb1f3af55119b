"""main() builds the training loader without shuffle and hands it to train_one_epoch()."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

def train_one_epoch(model, loader, optimizer):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimizer.step()

def main():
    ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
    train_loader = DataLoader(ds, batch_size=8)  # TL302
    val_loader = DataLoader(ds, batch_size=64)
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        train_one_epoch(model, train_loader, opt)
        with torch.no_grad():
            for a, b in val_loader:
                model(a)

main()
