"""A pipeline-parallel schedule runs forward passes ahead of backward ones: each micro-batch's
output is appended to a queue and popped again for its backward a few steps later, so the
queue holds a bounded number of graphs on purpose."""

import torch
import torch.nn as nn

model = nn.Linear(8, 8)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
micro_batches = [torch.randn(4, 8) for _ in range(8)]
warmup = 2

for step in range(3):
    optimizer.zero_grad()
    output_tensors = []
    for i, x in enumerate(micro_batches):
        output_tensor = model(x).pow(2).mean()
        output_tensors.append(output_tensor)
        if i >= warmup:
            output_tensor = output_tensors.pop(0)
            output_tensor.backward()
    while output_tensors:
        output_tensors.pop(0).backward()
    optimizer.step()
