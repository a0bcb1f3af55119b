"""Shuffling is opt-out: `--no-shuffle` is a `store_false` flag writing `shuffle`, true unless
given; and an option of another type is the user's decision at run time."""

import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset


class Cifar(Dataset):
    def __init__(self, path: str) -> None:
        self.items = torch.load(path)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def get_training_dataloader(path: str, batch_size: int = 16, shuffle: bool = True):
    return DataLoader(Cifar(path), batch_size=batch_size, shuffle=shuffle)


parser = argparse.ArgumentParser()
parser.add_argument("-b", type=int, default=128)
parser.add_argument("--no-shuffle", dest="shuffle", action="store_false")
parser.add_argument("--shuffle-val", type=int, default=0)
args = parser.parse_args()

model = nn.Linear(32, 100)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loader = get_training_dataloader("train.pt", batch_size=args.b, shuffle=args.shuffle)
for epoch in range(20):
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
