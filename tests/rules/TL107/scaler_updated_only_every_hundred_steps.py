"""The scaler steps on every iteration, but `scaler.update()` only runs when the scale is
raised every hundred batches: the second `scaler.step()` before an update raises."""

import torch
import torch.nn as nn


def train(model: nn.Module, loader, use_fp16: bool = True) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.cuda.amp.GradScaler(enabled=use_fp16, init_scale=1.0)
    for batch_idx, (x, y) in enumerate(loader):
        with torch.autocast("cuda", enabled=use_fp16):
            loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # TL107
        if batch_idx % 100 == 0 and use_fp16:
            scale = scaler.get_scale()
            if scale < 8.0:
                scaler.update(scale * 2.0)
