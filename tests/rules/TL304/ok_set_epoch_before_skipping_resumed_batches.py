"""Resuming mid-epoch: the sampler is told the start epoch so the batches already seen can be
skipped, and the epoch loop tells it every epoch after that."""

import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(model: torch.nn.Module, dataset: TensorDataset, start_epoch: int, epochs: int, skip: int) -> None:
    sampler = DistributedSampler(dataset)
    loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = iter(loader)
    if skip > 0:
        sampler.set_epoch(start_epoch)
        for _ in range(skip):
            next(batches)
    for epoch in range(start_epoch, epochs):
        sampler.set_epoch(epoch)
        for x, y in batches:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
        batches = iter(loader)
