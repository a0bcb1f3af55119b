"""Mixed precision chosen by one flag, tested twice: `if scaler is not None:` picks the
scaled backward, and a later `if scaler is not None:` picks the scaler step. The plain
backward (and the clip of full precision only) and the scaler step never run in the same
iteration.
"""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
scaler = torch.amp.GradScaler("cuda") if torch.cuda.is_available() else None
data = [(torch.randn(8, 10), torch.randint(0, 2, (8,))) for _ in range(4)]

for x, y in data:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()
    if scaler is None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # (full precision only)
    if scaler is not None:
        scaler.step(opt)
        scaler.update()
    else:
        opt.step()

for x, y in data:
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    if not scaler:
        loss.backward()
        opt.step()
    if scaler:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
