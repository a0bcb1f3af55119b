"""The same trainer with a shuffling loader."""

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


def cycle(dl):
    while True:
        yield from dl


class Images(Dataset):
    def __init__(self, path):
        self.images = np.load(path)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return torch.from_numpy(self.images[i]).float()


class Trainer:
    def __init__(self, model, dataset, batch_size=16, num_train_steps=1000):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        self.dl = DataLoader(dataset, batch_size=batch_size, shuffle=True)
        self.num_train_steps = num_train_steps

    def train(self):
        dl = cycle(self.dl)
        for _ in range(self.num_train_steps):
            data = next(dl)
            loss = self.model(data).pow(2).mean()
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()


Trainer(torch.nn.Linear(64, 64), Images("images.npy")).train()
