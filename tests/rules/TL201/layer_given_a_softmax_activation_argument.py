"""A graph layer applies the activation its constructor is given; the network's output layer
is given a softmax, and the scores go to F.cross_entropy."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphLayer(nn.Module):
    def __init__(self, in_f, out_f, activation=None):
        super().__init__()
        self.linear = nn.Linear(in_f, out_f)
        self.activation = activation

    def forward(self, x, adj):
        h = adj @ self.linear(x)
        if self.activation:
            h = self.activation(h)
        return h


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass):
        super().__init__()
        self.gc1 = GraphLayer(nfeat, nhid, activation=F.relu)
        self.gc2 = GraphLayer(nhid, nclass, activation=nn.Softmax(dim=1))  # TL201

    def forward(self, x, adj):
        return self.gc2(self.gc1(x, adj), adj)


def main(x, adj, y, idx):
    model = GCN(10, 16, 4)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(200):
        opt.zero_grad()
        loss = F.cross_entropy(model(x, adj)[idx], y[idx])
        loss.backward()
        opt.step()
