"""`shuffle=False` written beside a sampler that is `None` without distributed training: the
single-process runs read the training set in its stored order every epoch."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class Clips(Dataset):
    def __init__(self, path: str) -> None:
        self.items = torch.load(path)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def prepare_dataloaders(path: str, distributed: bool):
    trainset = Clips(path)
    train_sampler = DistributedSampler(trainset) if distributed else None
    return DataLoader(trainset, shuffle=False, sampler=train_sampler, batch_size=16, drop_last=True)  # TL302


def train(path: str, distributed: bool, epochs: int) -> None:
    model = nn.Linear(80, 80)
    opt = torch.optim.Adam(model.parameters())
    loader = prepare_dataloaders(path, distributed)
    for epoch in range(epochs):
        if distributed:
            loader.sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
