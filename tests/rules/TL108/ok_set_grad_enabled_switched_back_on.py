"""Gradients are switched off with a statement for an evaluation pass and switched on again
before training; a test-time step re-enables them in `with torch.enable_grad():`."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
criterion = nn.CrossEntropyLoss()
batches = [(torch.randn(8, 20), torch.randint(0, 3, (8,))) for _ in range(4)]

for epoch in range(3):
    torch.set_grad_enabled(False)
    model.eval()
    print(sum(criterion(model(x), y).item() for x, y in batches))
    torch.set_grad_enabled(True)
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def adapt(x, y):
    torch.set_grad_enabled(False)
    with torch.enable_grad():
        for _ in range(3):
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
    return model(x).argmax(1)


print(adapt(torch.randn(8, 20), torch.randint(0, 3, (8,))))
