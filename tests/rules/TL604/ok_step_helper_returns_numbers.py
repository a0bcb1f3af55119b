"""The step helper backpropagates its loss and returns plain numbers (`.item()`), and the
model output it returns beside them is never summed: the running totals hold no graph."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(8, 3)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def train_step(x, y):
    optimizer.zero_grad()
    out = model(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    optimizer.step()
    return loss.item(), out


def train_step_tuple(x, y):
    optimizer.zero_grad()
    out = model(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    optimizer.step()
    return out.argmax(1), loss


total = 0.0
correct = 0
for i in range(20):
    x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
    value, logits = train_step(x, y)
    total += value
    pred, _ = train_step_tuple(x, y)
    correct += (pred == y).sum().item()
print(total / 20, correct)
