"""Shuffling is opt-in: `-s` is a `store_true` flag, false unless given, and the loader
helper is called with `shuffle=args.s`, so a run with the default options trains in stored
order."""

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
    return DataLoader(Cifar(path), batch_size=batch_size, shuffle=shuffle)  # TL302


parser = argparse.ArgumentParser()
parser.add_argument("-b", type=int, default=128)
parser.add_argument("-s", action="store_true", default=False, help="whether to shuffle the dataset")
args = parser.parse_args()

model = nn.Linear(32, 100)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loader = get_training_dataloader("train.pt", batch_size=args.b, shuffle=args.s)
for epoch in range(20):
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
