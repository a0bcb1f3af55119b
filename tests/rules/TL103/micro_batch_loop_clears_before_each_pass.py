"""An architecture search steps its architecture weights on each micro-batch; it splits each batch into micro-batches to save memory for the network's weights, but clears the gradients
at the top of every micro-batch and steps once after the loop: only the last micro-batch's
gradients reach the step, the others are discarded."""

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
        optimizer.zero_grad()
        out = model(data[start : start + small_batch_size])
        loss = F.cross_entropy(out, targets[start : start + small_batch_size]) * small_batch_size / batch_size
        loss.backward()  # TL103
        start += small_batch_size
    optimizer.step()
