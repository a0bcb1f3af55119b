"""A training callback attaches a linear probe to the module it is handed in one hook and
trains it in another; the probe ends in `nn.Softmax` and its output goes to
`F.cross_entropy`."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Probe(nn.Module):
    def __init__(self, n_in, n_classes):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(n_in, n_classes), nn.Softmax(dim=1))  # TL201

    def forward(self, x):
        return self.head(x)


class OnlineProbe:
    def __init__(self, n_in, n_classes):
        self.n_in = n_in
        self.n_classes = n_classes

    def on_fit_start(self, trainer, pl_module):
        pl_module.probe = Probe(self.n_in, self.n_classes)
        self.optimizer = torch.optim.Adam(pl_module.probe.parameters(), lr=1e-4)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            feats = pl_module(x).flatten(1)
        loss = F.cross_entropy(pl_module.probe(feats), y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
