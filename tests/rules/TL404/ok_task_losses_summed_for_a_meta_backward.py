"""A meta-learning step sums a task's losses over its batches in a helper that runs no
backward itself; the caller adds the returned loss into the meta-loss and backpropagates it.
The helper's forward passes feed that backward: gradients must stay on."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(16, 32), nn.Dropout(0.1), nn.Linear(32, 4))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_func = nn.CrossEntropyLoss()


def task_loss(batches, learner):
    loss = 0.0
    for x, y in batches:
        loss += loss_func(learner(x), y) / len(batches)
    return loss, len(batches)


for iteration in range(10):
    meta_loss = 0.0
    for task in range(4):
        batches = [(torch.randn(8, 16), torch.randint(0, 4, (8,))) for _ in range(3)]
        error, _ = task_loss(batches, model)
        meta_loss += error
    opt.zero_grad()
    meta_loss.backward()
    opt.step()
