"""A graph dataset (stored grouped by class) is split by position and its training part read
by a graph library's DataLoader with no `shuffle=True`: every epoch sees the same batches, and
with the classes grouped, consecutive batches hold one class."""

import torch
from torch_geometric.datasets import TUDataset
from torch_geometric.loader import DataLoader

dataset = TUDataset("data/TU", name="PROTEINS")
n = len(dataset) // 10
test_loader = DataLoader(dataset[:n], batch_size=60)
train_loader = DataLoader(dataset[n:], batch_size=60)  # TL302


def train(model, optimizer):
    model.train()
    for data in train_loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(model(data.x, data.edge_index, data.batch), data.y)
        loss.backward()
        optimizer.step()
