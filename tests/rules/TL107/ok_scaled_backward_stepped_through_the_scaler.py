"""The same loop stepping through the scaler when it scales; and apex's `amp.scale_loss`
context, whose plain `optimizer.step()` is the documented recipe."""

import torch
import torch.nn as nn
from apex import amp


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
            if use_amp:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            optimizer.zero_grad()


def train_apex(model, loader, optimizer):
    model, optimizer = amp.initialize(model, optimizer, opt_level="O1")
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        with amp.scale_loss(loss, optimizer) as scaled_loss:
            scaled_loss.backward()
        optimizer.step()
