"""A DQN-style target network's output is detached: only the target, not the prediction."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

target_net = nn.Linear(8, 2)
for xb, yb in loader:
    optimizer.zero_grad()
    target = target_net(xb).max(1)[0].detach()
    loss = F.mse_loss(model(xb).max(1)[0], target)
    loss.backward()
    optimizer.step()
