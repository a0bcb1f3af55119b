"""An unshuffled loader over class-sorted data, iterated through enumerate(tqdm(loader))."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from tqdm import tqdm
loader = DataLoader(TensorDataset(torch.randn(64, 64), torch.arange(64) // 32), batch_size=8)  # TL302
model = nn.Linear(64, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for i, (xb, yb) in enumerate(tqdm(loader)):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    optimizer.step()
