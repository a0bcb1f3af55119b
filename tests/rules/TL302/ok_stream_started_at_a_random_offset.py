"""Outlier exposure: the auxiliary outlier set is a huge file read in stored order for disk
locality (`shuffle=False`), and each epoch starts it at a random point by setting the
dataset's offset by hand. The in-distribution loader shuffles as usual."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset


class OutlierStream(Dataset):
    def __init__(self, n):
        self.n = n
        self.offset = 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        index = (index + self.offset) % self.n
        return torch.full((8,), float(index % 7)), 0


train_loader_in = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 3, (64,))), batch_size=8, shuffle=True)
train_loader_out = DataLoader(OutlierStream(1000), batch_size=16, shuffle=False)

net = nn.Linear(8, 3)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)


def train():
    net.train()
    train_loader_out.dataset.offset = np.random.randint(len(train_loader_out.dataset))
    for in_set, out_set in zip(train_loader_in, train_loader_out):
        x = net(torch.cat((in_set[0], out_set[0]), 0))
        loss = F.cross_entropy(x[: len(in_set[0])], in_set[1])
        loss += 0.5 * -(x[len(in_set[0]) :].mean(1) - torch.logsumexp(x[len(in_set[0]) :], dim=1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


for epoch in range(10):
    train()
