"""SGD with lr=1e-7, below any rate SGD is used with."""

import torch
import torch.nn as nn
model = nn.Linear(8, 2)
opt = torch.optim.SGD(model.parameters(), lr=1e-7)  # TL501
