"""`shuffle=False` on the training loader, beside `**kwargs` that only set the workers and
memory pinning: the unpacked dict cannot turn shuffling on."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

use_cuda = torch.cuda.is_available()
kwargs = {"num_workers": 2, "pin_memory": True} if use_cuda else {}


def main():
    x = torch.randn(64, 64)
    y = torch.arange(64) // 32  # rows sorted by class
    train_loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False, **kwargs)  # TL302
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()


main()
