"""The same shared epoch function done right: the forward runs under
`torch.set_grad_enabled(is_train)`; and a second shared function that callers only ever
call with the flag on trains in every call."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

train_loader = DataLoader(TensorDataset(torch.randn(128, 6), torch.randn(128, 1)), batch_size=16, shuffle=True)
valid_loader = DataLoader(TensorDataset(torch.randn(32, 6), torch.randn(32, 1)), batch_size=16)


def train_and_valid(model, optimizer, loader, is_train):
    model.train(is_train)
    total = 0.0
    for x, y in loader:
        with torch.set_grad_enabled(is_train):
            pred = model(x)
        loss = F.mse_loss(pred, y)
        if is_train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total += loss.item()
    return total / len(loader)


def run_epoch(model, optimizer, loader, update):
    for x, y in loader:
        loss = F.mse_loss(model(x), y)
        if update:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(3):
    train_loss = train_and_valid(model, optimizer, train_loader, True)
    valid_loss = train_and_valid(model, optimizer, valid_loader, False)
    run_epoch(model, optimizer, train_loader, update=True)
