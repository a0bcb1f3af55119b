"""A weighting helper takes .item() of the loss and returns it rewrapped in a new tensor with
requires_grad=True.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

def weighted(criterion, logits, targets, weight):
    value = criterion(logits, targets).item() * weight
    return torch.tensor(value, requires_grad=True)

def main():
    for epoch in range(2):
        w = 0.5 + 0.5 * epoch
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = weighted(criterion, model(xb), yb, w)
            loss.backward()  # TL601
            optimizer.step()

main()
