"""Integer token ids fed to an Embedding: not pixel intensities."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

tokens = torch.randint(0, 1000, (128, 16))
loader = DataLoader(TensorDataset(tokens, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Embedding(1000, 8), nn.Flatten(), nn.Linear(128, 2))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()
