"""Full precision and mixed precision take separate branches of the step, and each clears
the gradients before its backward."""

import torch
import torch.nn as nn

use_amp = torch.cuda.is_available()
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
data = [(torch.randn(8, 10), torch.randint(0, 2, (8,))) for _ in range(4)]

for x, y in data:
    with torch.autocast("cuda", enabled=use_amp):
        loss = nn.functional.cross_entropy(model(x), y)
    if not use_amp:
        opt.zero_grad()
        loss.backward()
        opt.step()
    else:
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
