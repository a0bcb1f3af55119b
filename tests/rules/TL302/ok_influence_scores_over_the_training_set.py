"""A training-data attribution method (TracIn) walks the training set in stored order and,
for each batch, backpropagates the loss to collect per-example gradients at a checkpoint.
The loop calls `backward()` but trains nothing: no optimizer steps, nothing is updated, and
the scores must come back in the order of the examples."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class TracInCP:
    def __init__(self, model, train_dataset, loss_fn, batch_size=8):
        self.model = model
        self.train_dataloader = DataLoader(train_dataset, batch_size, shuffle=False)
        self.loss_fn = loss_fn

    def self_influence(self):
        scores = []
        for inputs, targets in self.train_dataloader:
            self.model.zero_grad()
            loss = self.loss_fn(self.model(inputs), targets)
            loss.backward()
            grads_list = [p.grad.flatten() for p in self.model.parameters()]
            scores.append(torch.cat(grads_list).norm() ** 2)
        return torch.stack(scores)


data = TensorDataset(torch.randn(32, 4), torch.arange(32) % 3)
print(TracInCP(nn.Linear(4, 3), data, nn.CrossEntropyLoss()).self_influence())
