"""main() builds an MSELoss and a dataset of torch.randint class labels; the epoch helper regresses
onto the labels.
"""

import torch
import torch.nn as nn

from torch.utils.data import DataLoader, TensorDataset


def train_one_epoch(model, loader, optimizer, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x).squeeze(1), y.float())  # TL205
        loss.backward()
        optimizer.step()


def main():
    data = TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
    loader = DataLoader(data, batch_size=8, shuffle=True)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.MSELoss()
    train_one_epoch(model, loader, optimizer, criterion)


main()
