"""A {'train', 'val'} loader dict where only the shuffled loader is trained on."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

ds = TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)
loaders = {"train": DataLoader(ds, batch_size=8, shuffle=True), "val": DataLoader(ds, batch_size=8)}
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for phase in ["train", "val"]:
    for x, y in loaders[phase]:
        loss = nn.functional.cross_entropy(model(x), y)
        if phase == "train":
            opt.zero_grad()
            loss.backward()
            opt.step()
