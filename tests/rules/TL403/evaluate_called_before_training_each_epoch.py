"""`evaluate()` runs at the start of every epoch, before that epoch's training: the training
after it does not use what it returns, so it is an evaluation, left in training mode."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()


def evaluate(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()  # TL403


for epoch in range(10):
    accuracy = evaluate(model, torch.randn(64, 8), torch.randint(0, 2, (64,)))
    print(epoch, accuracy)
    for step in range(20):
        x, y = torch.randn(32, 8), torch.randint(0, 2, (32,))
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
