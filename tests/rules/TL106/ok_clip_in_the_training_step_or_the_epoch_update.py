"""Clipping inside the training step, after unscaling; and a run that accumulates a whole
epoch's gradients and makes one update per epoch, clipping just before it."""

import torch
import torch.nn as nn


def train_one_epoch(model, loader, optimizer, scaler):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        with torch.autocast("cuda", dtype=torch.float16):
            loss = nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=500)
        scaler.step(optimizer)
        scaler.update()


def main(model, loader, epochs):
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer, scaler)


def full_batch(model, loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        optimizer.zero_grad()
        for x, y in loader:
            nn.functional.mse_loss(model(x), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
