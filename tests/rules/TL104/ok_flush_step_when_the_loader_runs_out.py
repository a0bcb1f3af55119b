"""A `while True` loop pulls batches by hand; when the loader runs out it flushes the
accumulated gradients with one last step and leaves. That step follows the backward of
earlier iterations: the clear before it runs only on the iterations that stepped."""

import torch
import torch.nn as nn

model = nn.Linear(8, 1)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 100))
accumulate = 4
loader = [torch.randn(16, 8) for _ in range(10)]

batches = iter(loader)
index = 0
while True:
    try:
        batch = next(batches)
    except StopIteration:
        if index % accumulate:
            optimizer.step()
            optimizer.zero_grad()
        break
    index += 1
    loss = model(batch).pow(2).mean()
    loss.backward()
    if index % accumulate == 0:
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
