"""A graph network keeps its layers in a ModuleList filled with `append` (hidden layers in a
loop, the output layer after it) and runs them in a loop; the output layer is told to apply a
softmax, and the logits go to F.cross_entropy."""

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from dgl.nn.pytorch import GraphConv


class NodeClassifier(nn.Module):
    def __init__(self, in_dim, hidden, n_classes, n_layers):
        super().__init__()
        self.layers = nn.ModuleList()
        self.layers.append(GraphConv(in_dim, hidden, activation=F.relu))
        for _ in range(n_layers - 2):
            self.layers.append(GraphConv(hidden, hidden, activation=F.relu))
        self.layers.append(GraphConv(hidden, n_classes, activation=partial(F.softmax, dim=1)))  # TL201

    def forward(self, g, h):
        for layer in self.layers:
            h = layer(g, h)
        return h


def train(g, features, labels, train_idx, epochs=200):
    model = NodeClassifier(features.shape[1], 16, 7, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for epoch in range(epochs):
        optimizer.zero_grad()
        logits = model(g, features)
        loss = F.cross_entropy(logits[train_idx], labels[train_idx])
        loss.backward()
        optimizer.step()
