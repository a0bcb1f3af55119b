"""The training sampler is a RandomSampler on one process and a DistributedSampler under
DDP, chosen in one conditional expression; the epoch loop never tells it the epoch, so
every distributed epoch repeats one order."""

import torch
from torch.utils.data import DataLoader, RandomSampler
from torch.utils.data.distributed import DistributedSampler


def train(model, loader, opt):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()


def main(model, dataset, local_rank, epochs):
    sampler = (
        RandomSampler(dataset)
        if local_rank == -1
        else DistributedSampler(dataset, seed=0)  # TL304
    )
    loader = DataLoader(dataset, sampler=sampler, batch_size=16)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    for epoch in range(epochs):
        train(model, loader, opt)
