"""A Trainer class builds self.loader from the dataset it is given, without shuffle."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

class Trainer:
    def __init__(self, model, dataset, batch_size=32):
        self.model = model
        self.loader = DataLoader(dataset, batch_size=batch_size)  # TL302
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def _step(self, batch):
        inputs, labels = batch
        self.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(self.model(inputs), labels)
        loss.backward()
        self.optimizer.step()

    def fit(self):
        for batch in self.loader:
            self._step(batch)

Trainer(nn.Linear(4, 2), TensorDataset(torch.randn(64, 4), torch.arange(64) // 32)).fit()
