"""Mixed precision half done: the loss is scaled for backward, but the update is the plain
`optimizer.step()`, which applies gradients still multiplied by the loss scale."""

import torch
import torch.nn as nn


def train_epoch(model, loader, optimizer, scaler=None, accum=1):
    use_amp = scaler is not None
    model.train()
    for i, (x, y) in enumerate(loader):
        with torch.autocast("cuda", enabled=use_amp):
            loss = nn.functional.cross_entropy(model(x), y)
        if use_amp:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        if (i + 1) % accum == 0:
            optimizer.step()  # TL107
            optimizer.zero_grad()


def main(model, loader):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    train_epoch(model, loader, optimizer, scaler=torch.cuda.amp.GradScaler())
