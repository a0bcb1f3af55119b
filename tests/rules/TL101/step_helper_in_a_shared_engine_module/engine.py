"""The project's shared update step: backward, clip, optimizer step. It never clears the
gradients, and neither does the training loop that calls it (in train.py)."""

import torch


def step(model, optimizer, loss, max_norm=1.0):
    loss.backward()  # TL101
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return norm
