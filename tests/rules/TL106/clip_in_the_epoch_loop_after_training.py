"""The epoch loop calls the training function, whose inner loop makes every update, and clips
the gradients afterwards: only the gradients of the epoch's last update are clipped, after
that update used them."""

import torch
import torch.nn as nn


def train_one_epoch(model, loader, optimizer, scaler):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda", dtype=torch.float16):
            loss = nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def main(model, loader, epochs):
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.999)
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer, scaler)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=500)  # TL106
        scheduler.step()
