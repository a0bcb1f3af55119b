"""Adam with weight_decay: L2 added to the gradient."""

import torch

model = torch.nn.Linear(4, 2)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)  # TL502
