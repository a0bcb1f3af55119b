"""A detection script that can run distributed: the sampler is a `DistributedSampler` only
under DDP and `None` otherwise, and nothing asks for shuffling, so single-process training
reads the images in stored order. The loader class is chosen by a flag too."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class Images(Dataset):
    def __init__(self, path: str) -> None:
        self.items = torch.load(path)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class InfiniteDataLoader(DataLoader):
    """Reuses its workers across epochs."""


def create_dataloader(path: str, batch_size: int, rank: int = -1, weighted: bool = False):
    dataset = Images(path)
    sampler = DistributedSampler(dataset) if rank != -1 else None
    loader = DataLoader if weighted else InfiniteDataLoader
    return loader(dataset, batch_size=batch_size, sampler=sampler, num_workers=2), dataset  # TL302


model = nn.Linear(16, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
train_loader, _ = create_dataloader("train.pt", 32)
for epoch in range(10):
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
