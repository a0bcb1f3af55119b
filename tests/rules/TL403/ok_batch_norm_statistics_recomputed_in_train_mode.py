"""After swapping in averaged weights, the batch-norm statistics are recomputed: train mode
on purpose, forward passes whose outputs are dropped. Monte-Carlo dropout samples the same
input many times, also in train mode on purpose."""

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 4))

    def forward(self, x):
        return self.body(x)


model = Net()
model.load_state_dict(torch.load("swa.pth"))
loader = torch.load("train_batches.pt")
model.train()
with torch.no_grad():
    for x in loader:
        model(x)
    x = torch.randn(8, 20)
    samples = torch.stack([model(x) for _ in range(30)])
print(samples.mean(0), samples.std(0))
