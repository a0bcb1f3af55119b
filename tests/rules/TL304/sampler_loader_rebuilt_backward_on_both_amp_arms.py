"""The training loader is built twice (again after unfreezing the backbone) and the epoch
function runs its backward on either arm of an `if fp16:`: every path trains, so the loop
is a training loop, and its shuffling DistributedSampler is never told the epoch."""

import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler


def fit_one_epoch(model, optimizer, gen, scaler, fp16):
    for images, targets in gen:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(images), targets)
        if not fp16:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()


def main(model, optimizer, dataset, epochs, unfreeze_at, fp16=False):
    scaler = torch.cuda.amp.GradScaler() if fp16 else None
    sampler = DistributedSampler(dataset, shuffle=True)  # TL304
    gen = DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        if epoch == unfreeze_at:
            gen = DataLoader(dataset, batch_size=16, sampler=sampler)
        fit_one_epoch(model, optimizer, gen, scaler, fp16)
