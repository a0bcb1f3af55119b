"""One run_epoch() for training and evaluation; the unshuffled loader only goes to the pass without
an optimizer.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

def run_epoch(model, loader, optimizer=None):
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
run_epoch(model, DataLoader(ds, batch_size=8, shuffle=True), opt)
run_epoch(model, DataLoader(ds, batch_size=64))
