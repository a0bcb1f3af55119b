"""A graph library's DataLoader with a shuffling DistributedSampler, read by the training
function through a progress helper from a module out of sight; the epoch loop that calls
the training function never tells the sampler its epoch."""

import torch
import torch.distributed as dist

try:
    from torch_geometric.loader import DataLoader
except ImportError:
    from torch_geometric.data import DataLoader

from utils.progress import iterate_tqdm


def create_loaders(trainset, valset, batch_size):
    if dist.is_initialized():
        sampler = torch.utils.data.distributed.DistributedSampler(trainset)  # TL304
        train_loader = DataLoader(trainset, batch_size=batch_size, shuffle=False, sampler=sampler)
    else:
        train_loader = DataLoader(trainset, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(valset, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader


def train(loader, model, opt, verbosity):
    model.train()
    for data in iterate_tqdm(loader, verbosity):
        opt.zero_grad()
        loss = model(data).mean()
        loss.backward()
        opt.step()


def run(trainset, valset, model, epochs):
    train_loader, val_loader = create_loaders(trainset, valset, 32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        train(train_loader, model, opt, verbosity=0)
