"""The sampler is chosen by an `if`/`else` statement (distributed or not), and the epoch loop
in `main` never calls `set_epoch`."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def fit_one_epoch(model, train_loader, optimizer):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()


def main(distributed, rank, epochs):
    train_set = TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    if distributed:
        sampler = DistributedSampler(train_set, rank=rank, shuffle=True, drop_last=True)  # TL304
    else:
        sampler = RandomSampler(train_set)
    train_loader = DataLoader(train_set, batch_size=8, sampler=sampler)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        fit_one_epoch(model, train_loader, optimizer)
