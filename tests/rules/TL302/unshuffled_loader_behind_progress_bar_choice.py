"""The loader is wrapped in a progress bar only when verbose (`tqdm(loader) if verbose else
loader`); either way the training loop reads it in stored order."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm


class Rows(Dataset):
    def __init__(self, path: str) -> None:
        self.data = torch.load(path)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i]


def train(model, dataset, epochs: int, verbose: bool) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(dataset, batch_size=32)  # TL302
    for epoch in range(epochs):
        batches = tqdm(loader) if verbose else loader
        for x, y in batches:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


train(nn.Linear(4, 2), Rows("rows.pt"), 10, verbose=True)
