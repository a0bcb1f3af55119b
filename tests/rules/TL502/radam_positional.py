"""RAdam with weight_decay given by position."""

import torch

model = torch.nn.Linear(4, 2)
opt = torch.optim.RAdam(model.parameters(), 1e-3, (0.9, 0.999), 1e-8, 0.01)  # TL502
