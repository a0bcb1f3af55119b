"""The same epoch loop, telling the sampler its epoch before each call."""

import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from utils.fit import fit_one_epoch


def main(model, optimizer, train_dataset, epochs, distributed):
    train_sampler = DistributedSampler(train_dataset, shuffle=True) if distributed else None
    gen = DataLoader(train_dataset, batch_size=16, shuffle=train_sampler is None, sampler=train_sampler)
    for epoch in range(epochs):
        if train_sampler is not None:
            train_sampler.set_epoch(epoch)
        fit_one_epoch(model, optimizer, epoch, gen)
    torch.save(model.state_dict(), "last.pth")
