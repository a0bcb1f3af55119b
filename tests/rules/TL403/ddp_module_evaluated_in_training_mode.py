"""The evaluation calls the DDP-wrapped model through `.module` (the model it wraps), never
put in eval mode: its dropout stays on."""

import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))

    def forward(self, x):
        return self.body(x)


model = DDP(Net())
opt = torch.optim.SGD(model.parameters(), lr=0.1)
data = [(torch.randn(8, 10), torch.randint(0, 3, (8,)))]
for epoch in range(5):
    model.train()
    for x, y in data:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    with torch.no_grad():
        for x, y in data:
            acc = (model.module(x).argmax(1) == y).float().mean()  # TL403
