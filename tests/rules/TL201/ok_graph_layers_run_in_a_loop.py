"""The same graph network whose output layer has no activation (the loss gets logits), and a
model whose ModuleList ends with a Linear layer; a softmax on a hidden layer is fine."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from dgl.nn.pytorch import GraphConv


class NodeClassifier(nn.Module):
    def __init__(self, in_dim, hidden, n_classes, n_layers):
        super().__init__()
        self.layers = nn.ModuleList()
        for _ in range(n_layers - 1):
            self.layers.append(GraphConv(in_dim, hidden, activation=F.relu))
            in_dim = hidden
        self.layers.append(GraphConv(hidden, n_classes, activation=None))

    def forward(self, g, h):
        for layer in self.layers:
            h = layer(g, h)
        return h


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(8, 8), nn.Softmax(dim=-1), nn.Linear(8, 3)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def train(g, features, labels, train_idx, x, y, epochs=200):
    model = NodeClassifier(features.shape[1], 16, 7, 3)
    tagger = Tagger()
    optimizer = torch.optim.Adam(list(model.parameters()) + list(tagger.parameters()), lr=0.01)
    for epoch in range(epochs):
        optimizer.zero_grad()
        logits = model(g, features)
        loss = F.cross_entropy(logits[train_idx], labels[train_idx]) + F.cross_entropy(tagger(x), y)
        loss.backward()
        optimizer.step()
