"""The optimizer class is picked by name from a command-line flag
(`getattr(optim, args.optim)`); the loop never clears the gradients."""

import argparse

import torch
import torch.nn as nn
import torch.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("--optim", default="Adam")
args = parser.parse_args()

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
criterion = nn.CrossEntropyLoss()
optimizer = getattr(optim, args.optim)(model.parameters(), lr=1e-3)
x, y = torch.randn(256, 10), torch.randint(0, 2, (256,))
for start in range(0, 256, 32):
    loss = criterion(model(x[start : start + 32]), y[start : start + 32])
    loss.backward()  # TL101
    optimizer.step()
