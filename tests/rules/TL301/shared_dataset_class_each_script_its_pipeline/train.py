"""The training script builds the shared dataset with a bare `ToTensor()`: reported at its own
pipeline, not at the plotting script's identical one."""

import torch
import torch.nn as nn
import torchvision.transforms as T
from torch.utils.data import DataLoader

from utils.folder import Digits

data = Digits("data/", transform=T.ToTensor())  # TL301
loader = DataLoader(data, batch_size=16, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in loader:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
