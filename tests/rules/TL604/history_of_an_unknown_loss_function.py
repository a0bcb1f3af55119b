"""A tensor-decomposition optimiser is given its loss as a function; it sums the returned
terms into one total, appends the total to its history and differentiates that newest
entry. The loss function is unknown, but the entry is what `backward()` runs on, so every
older entry keeps its graph."""

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
        losses.append(reduce(lambda x, y: x + y, loss))  # TL604
        if len(losses) > 2 and abs(losses[-2].item() - losses[-1].item()) < tol:
            break
        losses[-1].backward(retain_graph=True)
        optimizer.step()
    return losses
