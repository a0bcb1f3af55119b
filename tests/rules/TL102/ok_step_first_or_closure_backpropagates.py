"""The step runs first and the clear follows it; a step whose closure clears and
backpropagates itself (LBFGS)."""

import torch
import torch.nn as nn

model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(10)]
loss = nn.functional.mse_loss(model(batches[0][0]), batches[0][1])
loss.backward()
for x, y in batches:
    optimizer.step()
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()

lbfgs = torch.optim.LBFGS(model.parameters())
for x, y in batches:

    def closure():
        lbfgs.zero_grad()
        out = nn.functional.mse_loss(model(x), y)
        out.backward()
        return out

    lbfgs.zero_grad()
    lbfgs.step(closure)
    final = nn.functional.mse_loss(model(x), y)
    final.backward()
