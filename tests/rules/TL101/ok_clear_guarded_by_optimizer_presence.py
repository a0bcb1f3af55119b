"""A clear guarded only by the optimizer's presence (`if opt is not None`) runs whenever
that optimizer can step; the other optimizer is cleared on every batch."""

import torch
import torch.nn as nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
aux_optimizer = None
loader = [(torch.randn(8, 4), torch.randn(8, 2)) for _ in range(4)]

for step, (x, y) in enumerate(loader):
    if aux_optimizer is not None:
        aux_optimizer.zero_grad()
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()

for step, (x, y) in enumerate(loader):
    if optimizer is not None:
        optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
