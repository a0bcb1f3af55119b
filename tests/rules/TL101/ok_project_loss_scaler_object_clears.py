"""A project's loss-scaler object (called like a function, through `__call__`) scales,
backpropagates and steps; the loop clears the gradients after each update."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScaledStep:
    def __init__(self):
        self._scaler = torch.amp.GradScaler("cuda")

    def __call__(self, loss, optimizer, clip_grad=None, parameters=None, update_grad=True):
        self._scaler.scale(loss).backward()
        if update_grad:
            if clip_grad is not None:
                self._scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(parameters, clip_grad)
            self._scaler.step(optimizer)
            self._scaler.update()


model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
step = ScaledStep()
data = [(torch.randn(8, 10), torch.randint(0, 3, (8,))) for _ in range(4)]
for x, y in data:
    with torch.autocast("cuda"):
        loss = F.cross_entropy(model(x), y)
    step(loss, optimizer, clip_grad=1.0, parameters=model.parameters())
    optimizer.zero_grad()
