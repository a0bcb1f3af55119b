"""The training loader is built on one of two paths, and the model's own method runs the
backward under a test of its own: the loop still trains, and its sampler is never told the epoch."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, DistributedSampler


class Model:
    def __init__(self, clip: float = 0.0) -> None:
        self.net = nn.Linear(4, 1)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.1)
        self.clip = clip

    def optimize_parameters(self, batch) -> None:
        self.opt.zero_grad()
        loss = self.net(batch).pow(2).mean()
        if self.clip > 0:
            loss.backward()
            nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        else:
            loss.backward()
        self.opt.step()


def main(train_set, distributed: bool) -> None:
    if distributed:
        train_sampler = DistributedSampler(train_set, drop_last=True)  # TL304
        train_loader = DataLoader(train_set, batch_size=8, sampler=train_sampler)
    else:
        train_loader = DataLoader(train_set, batch_size=8, shuffle=True)
    model = Model()
    for epoch in range(100):
        for batch in train_loader:
            model.optimize_parameters(batch)
