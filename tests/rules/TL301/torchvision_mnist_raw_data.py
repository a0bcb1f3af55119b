"""Training on MNIST's raw .data tensor (uint8 pixels) cast to float, bypassing the dataset's
transform.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from torchvision import datasets
mnist = datasets.MNIST("data", train=True, download=True)
images = mnist.data.float().unsqueeze(1)  # TL301
loader = DataLoader(TensorDataset(images, mnist.targets), batch_size=64, shuffle=True)

model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
