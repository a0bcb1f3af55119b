"""A helper handed something to freeze: whatever it is, that attribute is never read."""
import torch.nn as nn


def freeze(part):
    part.require_grad = False  # TL605


def unfreeze(module):
    for p in module.parameters():
        p.requires_grad = True


freeze(object())
unfreeze(nn.Linear(2, 2))
