"""The loop clears, steps, then backpropagates: each pass's backward feeds the next pass's
step, and the clear at the top of the loop wipes it first."""

import torch
import torch.nn as nn

model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(10)]
loss = nn.functional.mse_loss(model(batches[0][0]), batches[0][1])
loss.backward()
for x, y in batches:
    optimizer.zero_grad()  # TL102
    optimizer.step()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
