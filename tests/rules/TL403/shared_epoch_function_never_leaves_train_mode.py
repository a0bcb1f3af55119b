"""A shared train/validate epoch function that never switches modes: the model is put in
training mode once, so the validation call runs the dropout model with dropout on."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

train_loader = DataLoader(TensorDataset(torch.randn(128, 6), torch.randint(0, 2, (128,))), batch_size=16, shuffle=True)
valid_loader = DataLoader(TensorDataset(torch.randn(32, 6), torch.randint(0, 2, (32,))), batch_size=16)


def run_epoch(model, optimizer, loader, train=True):
    correct = 0
    for x, y in loader:
        with torch.set_grad_enabled(train):
            out = model(x)  # TL403
        loss = F.cross_entropy(out, y)
        if train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        correct += (out.argmax(1) == y).sum().item()
    return correct


model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for epoch in range(3):
    run_epoch(model, optimizer, train_loader)
    accuracy = run_epoch(model, optimizer, valid_loader, train=False)
