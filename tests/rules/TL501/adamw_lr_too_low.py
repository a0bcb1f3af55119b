"""AdamW with lr=1e-8: so small the weights barely move."""

import torch
import torch.nn as nn
model = nn.Linear(8, 2)
opt = torch.optim.AdamW(model.parameters(), lr=1e-8)  # TL501
