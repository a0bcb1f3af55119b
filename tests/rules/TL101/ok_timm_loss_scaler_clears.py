"""timm's NativeScaler steps the optimizer; the loop clears the gradients itself."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.utils import NativeScaler

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
loss_scaler = NativeScaler()
data = [(torch.randn(8, 10), torch.randint(0, 3, (8,))) for _ in range(4)]
for epoch in range(3):
    for x, y in data:
        with torch.autocast("cuda"):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss_scaler(loss, optimizer, clip_grad=1.0, parameters=model.parameters())
