"""A ReLU in the middle breaks the run of tanh layers."""

import torch.nn as nn
model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(),
                      nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh())
