"""The scaled loss is wrapped in `torch.autograd.Variable(..., requires_grad=True)` before
`backward()`: the legacy constructor makes a new leaf from the values, so no gradient reaches
the model."""
import torch
import torch.nn as nn
from torch.autograd import Variable

model = nn.Linear(8, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
accumulation = 4
for step in range(20):
    x, y = torch.randn(16, 8), torch.randn(16, 1)
    loss = nn.functional.mse_loss(model(x), y)
    loss = loss / accumulation
    loss = Variable(loss, requires_grad=True)
    loss.backward()  # TL601
    if (step + 1) % accumulation == 0:
        optimizer.step()
        optimizer.zero_grad()
