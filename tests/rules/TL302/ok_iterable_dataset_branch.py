"""A copy of the Hugging Face Trainer's `get_train_dataloader`: an `IterableDataset` gets a
plain loader (shuffling one raises), any other dataset a shuffling sampler."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset, RandomSampler, TensorDataset


class Trainer:
    def __init__(self, model, train_dataset, batch_size=8):
        self.model = model
        self.train_dataset = train_dataset
        self.batch_size = batch_size

    def get_train_dataloader(self):
        train_dataset = self.train_dataset
        if isinstance(train_dataset, torch.utils.data.IterableDataset):
            return DataLoader(train_dataset, batch_size=self.batch_size)
        return DataLoader(train_dataset, batch_size=self.batch_size, sampler=RandomSampler(train_dataset))

    def train(self, epochs=2):
        opt = torch.optim.SGD(self.model.parameters(), lr=0.1)
        for epoch in range(epochs):
            for x, y in self.get_train_dataloader():
                opt.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                opt.step()


data = TensorDataset(torch.randn(32, 4), torch.arange(32) % 3)
Trainer(nn.Linear(4, 3), data).train()
print(IterableDataset)
