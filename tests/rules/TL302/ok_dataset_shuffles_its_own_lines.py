"""A character language model reads its corpus split by split: the `Dataset` shuffles the
lines of each split itself (`random.shuffle(lines)`) each time it serves one, so the loader
over the splits is left unshuffled."""

import random

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset


class TextDataset(Dataset):
    def __init__(self, splits, shuffle=True):
        self.splits = splits
        self.shuffle = shuffle

    def __len__(self):
        return len(self.splits)

    def __getitem__(self, index):
        lines = list(self.splits[index])
        if self.shuffle:
            random.shuffle(lines)
        return torch.tensor(lines, dtype=torch.long)


splits = [[i % 7 for i in range(k, k + 32)] for k in range(4)]
training_generator = DataLoader(TextDataset(splits), shuffle=False)
model = nn.Embedding(8, 8)
head = nn.Linear(8, 8)
optimizer = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.1)
for epoch in range(3):
    for batch in training_generator:
        x = batch[0]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(head(model(x[:-1])), x[1:])
        loss.backward()
        optimizer.step()
