"""The loss input is rebound in both arms of an `if`/`else` before the loss on every pass, so
the sigmoid applied after the loss (for the accuracy) never reaches it in the next pass."""

import torch
import torch.nn as nn


def train(model: nn.Module, batches: list, use_mask: bool) -> None:
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for inputs, target, mask in batches:
        optimizer.zero_grad()
        scores = model(inputs)
        if use_mask:
            output = scores[:, mask]
            target = target[:, mask]
        else:
            output = scores
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        output = torch.sigmoid(output)
        accuracy = (torch.round(output) == target).float().mean()
        print(accuracy)
