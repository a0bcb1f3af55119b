"""The scaler is updated after every step; every hundred batches a small scale is also raised
by hand, which is an extra update, not the only one."""

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
        scaler.step(optimizer)
        scaler.update()
        if batch_idx % 100 == 0 and use_fp16:
            scale = scaler.get_scale()
            if scale < 8.0:
                scaler.update(scale * 2.0)


def train_accumulating(model: nn.Module, loader, accum: int = 4) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.cuda.amp.GradScaler()
    for i, (x, y) in enumerate(loader):
        with torch.autocast("cuda"):
            loss = nn.functional.mse_loss(model(x), y) / accum
        scaler.scale(loss).backward()
        if (i + 1) % accum == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
