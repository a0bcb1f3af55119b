"""A step skipped when the unscaled gradient norm is too large also skips `scaler.update()`."""

import torch
import torch.nn as nn

model = nn.Linear(16, 1)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scaler = torch.amp.GradScaler("cuda")
max_norm = 1.0

for step in range(100):
    x, y = torch.randn(8, 16), torch.randn(8, 1)
    with torch.autocast("cuda", dtype=torch.float16):
        loss = nn.functional.mse_loss(model(x), y)
    scaler.scale(loss).backward()
    skip = False
    scaler.unscale_(optimizer)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if norm > 5 * max_norm:
        skip = True
    if not skip:
        scaler.step(optimizer)
        scaler.update()  # TL107
    optimizer.zero_grad(set_to_none=True)
