"""An autoencoder reconstructing its own inputs with MSE."""

import torch
import torch.nn as nn
import torch.nn.functional as F

ae = nn.Sequential(nn.Linear(8, 2), nn.Linear(2, 8))
x = torch.randn(16, 8)
loss = F.mse_loss(ae(x), x)
