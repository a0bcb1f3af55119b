"""The epoch loop hands a loader with a shuffling DistributedSampler to a training function
imported from elsewhere, and nothing tells the sampler its epoch."""

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from utils.fit import fit_one_epoch


def main(model, optimizer, train_dataset, epochs, distributed):
    if distributed:
        train_sampler = DistributedSampler(train_dataset, shuffle=True)  # TL304
        shuffle = False
    else:
        train_sampler = None
        shuffle = True
    gen = DataLoader(train_dataset, batch_size=16, shuffle=shuffle, sampler=train_sampler, drop_last=True)
    for epoch in range(epochs):
        fit_one_epoch(model, optimizer, epoch, gen)
    if distributed:
        dist.barrier()
    torch.save(model.state_dict(), "last.pth")
