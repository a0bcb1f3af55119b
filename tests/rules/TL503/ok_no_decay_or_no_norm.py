"""No decay, a negligible one, a model without normalisation or embeddings, or norms with no affine parameters."""

import torch
import torch.nn as nn

with_norm = nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 2))
plain = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
frozen_stats = nn.Sequential(nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8), nn.BatchNorm2d(8, affine=False))

adam = torch.optim.Adam(with_norm.parameters(), lr=1e-3)
adamw_off = torch.optim.AdamW(with_norm.parameters(), lr=1e-3, weight_decay=0.0)
rmsprop_tiny = torch.optim.RMSprop(with_norm.parameters(), lr=1e-5, weight_decay=1e-8, momentum=0.999)
sgd_plain = torch.optim.SGD(plain.parameters(), lr=0.1, weight_decay=5e-4)
sgd_stats = torch.optim.SGD(frozen_stats.parameters(), lr=0.1, weight_decay=5e-4)


def build(model: nn.Module, decay: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=decay)  # a model not known here
