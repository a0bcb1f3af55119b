"""A trainer class casts uint8 image batches to float inside its training step."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

class Trainer:
    def __init__(self, model, images, labels):
        self.model = model
        self.loader = DataLoader(TensorDataset(images, labels), batch_size=8, shuffle=True)
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def fit(self):
        for x, y in self.loader:
            self.opt.zero_grad()
            loss = nn.functional.cross_entropy(self.model(x.float()), y)  # TL301
            loss.backward()
            self.opt.step()

raw = torch.zeros(32, 64, dtype=torch.uint8)
Trainer(nn.Linear(64, 2), raw, torch.zeros(32, dtype=torch.long)).fit()
