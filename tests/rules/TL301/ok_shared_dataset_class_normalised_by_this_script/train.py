"""The training script normalises; a plotting script elsewhere builds the same dataset with a
bare `ToTensor()`, which is not what this training loop reads."""

import torch
import torch.nn as nn
import torchvision.transforms as T
from torch.utils.data import DataLoader

from utils.folder import Digits

data = Digits("data/", transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
loader = DataLoader(data, batch_size=16, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in loader:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
