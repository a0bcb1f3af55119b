"""Unscaled pixels, but the script only runs the model under no_grad (no training)."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

images = torch.randint(0, 256, (128, 64)).float()
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16)
model = nn.Linear(64, 2)
with torch.no_grad():
    for xb, yb in loader:
        print(model(xb).argmax(1))
