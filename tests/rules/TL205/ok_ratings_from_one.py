"""Integer ratings from 1 to 5 regressed with MSE: counts, not class indices."""

import torch
import torch.nn as nn
import torch.nn.functional as F

emb = nn.Embedding(10, 1)
users = torch.randint(0, 10, (64,))
ratings = torch.randint(1, 6, (64,)).float()
loss = F.mse_loss(emb(users).squeeze(1), ratings)
