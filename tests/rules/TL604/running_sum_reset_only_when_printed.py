"""The sum is cleared every 500 batches when it is printed, but the optimizer steps on every
batch: up to 500 iterations' graphs stay referenced from `running` in between."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loader = torch.load("batches.pt")

for epoch in range(10):
    running = 0.0
    for i, (xb, yb) in enumerate(loader):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        running += loss  # TL604
        if i % 500 == 499:
            print(epoch, i, running / 500)
            running = 0.0
