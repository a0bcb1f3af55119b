"""A training step with gradient accumulation keeps the loss of each micro-batch in a list
that it averages for logging once the step is done. The list is made afresh by every call
and holds one step's micro-batches, each already backpropagated."""

import torch
import torch.nn as nn


def train_step(model, optimizer, data_iterator, gradient_accumulation_steps):
    losses = []
    for _ in range(gradient_accumulation_steps):
        x, y = next(data_iterator)
        loss = nn.functional.mse_loss(model(x), y) / gradient_accumulation_steps
        losses.append(loss)
        loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return torch.stack([item.detach() for item in losses]).sum().item()


model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
batches = iter([(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(40)])
for iteration in range(10):
    print(train_step(model, optimizer, batches, gradient_accumulation_steps=4))
