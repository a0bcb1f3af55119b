"""A reinforcement-learning LightningModule serves experiences from an `IterableDataset` fed by
its own generator; the attribute that holds it starts as `None` in `__init__`. Shuffling an
iterable dataset is not allowed: the loader is right as written."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, IterableDataset
import lightning.pytorch as pl


class ExperienceSourceDataset(IterableDataset):
    def __init__(self, generate_batch):
        self.generate_batch = generate_batch

    def __iter__(self):
        return self.generate_batch()


class DQN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 2)
        self.dataset = None

    def train_batch(self):
        for _ in range(10):
            yield torch.randn(4), torch.randn(2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self.net(x) - y) ** 2).mean()

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters())

    def _dataloader(self):
        self.dataset = ExperienceSourceDataset(self.train_batch)
        return DataLoader(dataset=self.dataset, batch_size=4)

    def train_dataloader(self):
        return self._dataloader()
