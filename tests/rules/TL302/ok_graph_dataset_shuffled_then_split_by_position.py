"""A graph dataset shuffled once (`dataset.shuffle()`) and then split by position: the
training part is already in random order, as the library's examples do it."""

import torch
from torch_geometric.datasets import TUDataset
from torch_geometric.loader import DataLoader

dataset = TUDataset("data/TU", name="PROTEINS").shuffle()
n = len(dataset) // 10
test_dataset = dataset[:n]
train_dataset = dataset[n:]
test_loader = DataLoader(test_dataset, batch_size=60)
train_loader = DataLoader(train_dataset, batch_size=60)


def train(model, optimizer):
    model.train()
    for data in train_loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(model(data.x, data.edge_index, data.batch), data.y)
        loss.backward()
        optimizer.step()
