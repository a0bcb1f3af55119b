"""A streaming IterableDataset: shuffle does not apply."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from torch.utils.data import IterableDataset

class Stream(IterableDataset):
    def __iter__(self):
        while True:
            yield torch.randn(64), torch.tensor(0)

loader = DataLoader(Stream(), batch_size=8)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
