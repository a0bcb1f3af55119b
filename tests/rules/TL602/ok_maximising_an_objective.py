"""Gradient ascent on an objective that is maximised, not a loss."""

import torch

theta = torch.zeros(4, requires_grad=True)
for _ in range(10):
    objective = -(theta - 1.0).pow(2).sum()
    objective.backward()
    with torch.no_grad():
        theta += 0.1 * theta.grad
        theta.grad.zero_()
