"""The optimizer step lives in a helper of another module, called after backward in train.py."""

import torch


def update(optimizer, model, max_norm=1.0):
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    optimizer.zero_grad()
