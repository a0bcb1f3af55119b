"""timm's NativeScaler runs backward, clipping and the optimizer step in one call, but it
leaves the gradients alone: nothing here clears them."""

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
        loss_scaler(loss, optimizer, clip_grad=1.0, parameters=model.parameters())  # TL101
