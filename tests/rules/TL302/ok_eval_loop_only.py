"""An unshuffled loader used only for evaluation under no_grad."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 4), torch.arange(64) // 32), batch_size=8)
model = nn.Linear(4, 2)
model.eval()
with torch.no_grad():
    for xb, yb in loader:
        print((model(xb).argmax(1) == yb).float().mean())
