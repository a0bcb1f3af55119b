"""The fixed optimiser: it differentiates the total and appends a detached copy to its
history, so only numbers are kept."""

from functools import reduce

import torch


def optimize(tensors, loss_function, max_iter=1000, tol=1e-4):
    optimizer = torch.optim.Adam(tensors, lr=0.01)
    losses = []
    for it in range(max_iter):
        optimizer.zero_grad()
        loss = loss_function(*tensors)
        if not isinstance(loss, (tuple, list)):
            loss = [loss]
        total = reduce(lambda x, y: x + y, loss)
        losses.append(total.detach())
        if len(losses) > 2 and abs(losses[-2].item() - losses[-1].item()) < tol:
            break
        total.backward()
        optimizer.step()
    return losses
