"""The sampler class is chosen by the run's mode, and the training loop draws its batches
with `next()` from an iterator over the loader, restarted when it runs out: the distributed
sampler is never told the epoch."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def train(local_rank, epochs, steps_per_epoch):
    data = TensorDataset(torch.load("x.pt"), torch.load("y.pt"))
    sampler = RandomSampler if local_rank == -1 else DistributedSampler
    loader = DataLoader(data, batch_size=64, sampler=sampler(data), drop_last=True)  # TL304
    model = nn.Linear(16, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)
    batches = iter(loader)
    for epoch in range(epochs):
        for step in range(steps_per_epoch):
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
