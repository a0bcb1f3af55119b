"""A SequentialSampler on one process, a non-shuffling DistributedSampler under DDP: there
is no per-epoch order to repeat, so no epoch is needed."""

import torch
from torch.utils.data import DataLoader, SequentialSampler
from torch.utils.data.distributed import DistributedSampler


def train(model, loader, opt):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()


def main(model, dataset, local_rank, epochs):
    sampler = SequentialSampler(dataset) if local_rank == -1 else DistributedSampler(dataset, shuffle=False)
    loader = DataLoader(dataset, sampler=sampler, batch_size=16)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for epoch in range(epochs):
        train(model, loader, opt)
