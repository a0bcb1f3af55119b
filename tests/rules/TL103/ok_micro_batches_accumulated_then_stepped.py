"""The fixed search (architecture weights stepped on each micro-batch) clears the network's
gradients once per batch, before its micro-batches: each
micro-batch's backward adds to them, and the step after the loop applies their sum."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(8, 4)
alphas = nn.Parameter(torch.zeros(4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
arch_optimizer = torch.optim.Adam([alphas], lr=3e-4)
batch_size, small_batch_size = 64, 16

for step in range(100):
    data, targets = torch.randn(batch_size, 8), torch.randint(0, 4, (batch_size,))
    optimizer.zero_grad()
    start = 0
    while start < batch_size:
        arch_optimizer.zero_grad()
        F.cross_entropy(model(data[start : start + small_batch_size]) + alphas, targets[start : start + small_batch_size]).backward()
        arch_optimizer.step()
        out = model(data[start : start + small_batch_size])
        loss = F.cross_entropy(out, targets[start : start + small_batch_size]) * small_batch_size / batch_size
        loss.backward()
        start += small_batch_size
    optimizer.step()
