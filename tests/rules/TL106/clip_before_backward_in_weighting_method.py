"""A multi-task loss-weighting object whose `backward` method clips the shared parameters'
gradients and only then backpropagates: the clip sees the previous gradients, and the new
ones reach the optimizer unclipped."""

import torch
import torch.nn as nn


class TaskWeighting:
    def __init__(self, n_tasks: int, max_norm: float = 1.0) -> None:
        self.weights = torch.ones(n_tasks) / n_tasks
        self.max_norm = max_norm

    def backward(self, losses, shared_parameters=None):
        loss = (self.weights * losses).sum()
        if shared_parameters is not None:
            nn.utils.clip_grad_norm_(shared_parameters, self.max_norm)  # TL106
        loss.backward()
        return loss


model = nn.Linear(20, 4)
weighting = TaskWeighting(n_tasks=4)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(64, 20), torch.randn(64, 4)
for it in range(50):
    losses = (y - model(x)).pow(2).mean(0)
    optimizer.zero_grad()
    weighting.backward(losses, shared_parameters=list(model.parameters()))
    optimizer.step()
