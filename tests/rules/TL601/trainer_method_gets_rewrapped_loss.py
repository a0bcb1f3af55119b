"""A trainer's fit() passes a rewrapped .item() loss to the method that runs backward()."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

class Trainer:
    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def apply(self, loss):
        self.opt.zero_grad()
        loss.backward()  # TL601
        self.opt.step()

    def fit(self):
        for xb, yb in loader:
            out = self.model(xb)
            self.apply(torch.tensor(F.cross_entropy(out, yb).item(), requires_grad=True))

Trainer(model).fit()
