"""A memory warm-up runs one forward and backward at the longest sequence, retrying with half
the batch on out-of-memory errors, then throws the gradients away: no step is meant. The
training loop below differentiates each loss term too, but never steps."""

import torch
import torch.nn as nn


def warm_up(model: nn.Module, optimizers: list, batch: torch.Tensor, size: int) -> None:
    while True:
        try:
            outputs = model(batch[:size])
            loss = (outputs.mean(), outputs.std())
            for loss_item in loss:
                loss_item.backward()  # ok: a warm-up, the gradients are cleared below
            for optimizer in optimizers:
                optimizer.zero_grad()
            break
        except RuntimeError:
            size //= 2


def train(model: nn.Module, loader, criterion) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        terms = (criterion(model(x), y), 0.01 * model(x).pow(2).mean())
        for term in terms:
            term.backward()  # TL103
