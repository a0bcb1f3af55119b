"""A graph library's DataLoader with a shuffling DistributedSampler, read through a progress
helper from a module out of sight; the epoch loop tells the sampler its epoch first."""

import torch
import torch.distributed as dist
from torch_geometric.loader import DataLoader

from utils.progress import iterate_tqdm


def create_loaders(trainset, batch_size):
    if dist.is_initialized():
        sampler = torch.utils.data.distributed.DistributedSampler(trainset)
        train_loader = DataLoader(trainset, batch_size=batch_size, shuffle=False, sampler=sampler)
    else:
        sampler = None
        train_loader = DataLoader(trainset, batch_size=batch_size, shuffle=True)
    return train_loader, sampler


def train(loader, model, opt, verbosity):
    model.train()
    for data in iterate_tqdm(loader, verbosity):
        opt.zero_grad()
        loss = model(data).mean()
        loss.backward()
        opt.step()


def run(trainset, model, epochs):
    train_loader, sampler = create_loaders(trainset, 32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        train(train_loader, model, opt, verbosity=0)
