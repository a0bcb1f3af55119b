"""The same warm-up scheduler class stepped after the optimizer, as intended."""

import torch
import torch.nn as nn
from pytorch_transformers.optimization import WarmupLinearSchedule

model = nn.Linear(32, 2)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
scheduler = WarmupLinearSchedule(optimizer, warmup_steps=10, t_total=100)

for step in range(100):
    x, y = torch.randn(8, 32), torch.randint(0, 2, (8,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
