"""The same shape, with the sampler told the epoch each time the iterator is restarted."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def train(local_rank, epochs, steps_per_epoch):
    data = TensorDataset(torch.load("x.pt"), torch.load("y.pt"))
    sampler = RandomSampler if local_rank == -1 else DistributedSampler
    train_sampler = sampler(data)
    loader = DataLoader(data, batch_size=64, sampler=train_sampler, drop_last=True)
    model = nn.Linear(16, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    batches = iter(loader)
    for epoch in range(epochs):
        for step in range(steps_per_epoch):
            try:
                x, y = next(batches)
            except StopIteration:
                if local_rank != -1:
                    train_sampler.set_epoch(epoch)
                batches = iter(loader)
                x, y = next(batches)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
