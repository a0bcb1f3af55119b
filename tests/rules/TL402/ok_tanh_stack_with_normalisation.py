"""Tanh layers separated by LayerNorm and BatchNorm, which keep the activations centred."""

import torch.nn as nn
model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.LayerNorm(4), nn.Tanh(),
                      nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Tanh())
