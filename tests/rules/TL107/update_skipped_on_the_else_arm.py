"""The step and the update sit on the `else` arm of a gradient-norm check: an iteration whose
norm is too large has already unscaled, then skips `scaler.update()` with the step."""

import torch
import torch.nn as nn

model = nn.Linear(16, 1)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scaler = torch.amp.GradScaler("cuda")

for step in range(100):
    x, y = torch.randn(8, 16), torch.randn(8, 1)
    with torch.autocast("cuda", dtype=torch.float16):
        loss = nn.functional.mse_loss(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    if norm > 100.0:
        print("skipping a step with gradient norm", norm.item())
    else:
        scaler.step(optimizer)
        scaler.update()  # TL107
    optimizer.zero_grad(set_to_none=True)
