"""Classifiers of latent codes, looked up by name."""

import torch.nn as nn


def small(num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, num_classes))
