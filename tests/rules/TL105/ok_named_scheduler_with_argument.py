"""A scheduler of another library (out of sight), stepped with the update count before the
optimizer: such schedulers set the rate for the coming update."""

import torch.nn.functional as F


def train_epoch(model, loader, optimizer, lr_scheduler, num_updates):
    for x, y in loader:
        lr_scheduler.step(num_updates)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        num_updates += 1
