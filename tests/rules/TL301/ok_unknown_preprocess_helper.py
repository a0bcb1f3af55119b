"""The pixels pass through a library preprocess() helper that may normalise them."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from mylib import preprocess
images = preprocess(torch.randint(0, 256, (128, 64)).float())
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)

model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
