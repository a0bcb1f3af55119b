"""Monte-Carlo dropout: the model is put in train mode on purpose to sample predictions, with no
training at all.
"""

import torch
import torch.nn as nn

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))

    def forward(self, x):
        return self.net(x)


model = MLP()
x = torch.randn(8, 20)
model.train()  # Monte-Carlo dropout: sample with dropout on purpose
with torch.no_grad():
    samples = []
    for _ in range(20):
        samples.append(model(x))
