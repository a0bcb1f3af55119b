"""Differentially private training with Opacus: `make_private` replaces the training loader
with one that draws each batch by Poisson sampling, which the privacy accounting requires; the
loader built before it needs no `shuffle=True`."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, Dataset, random_split


class NamesDataset(Dataset):
    def __init__(self, path):
        with open(path) as f:
            self.rows = [line.strip().split(",") for line in f]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        name, lang = self.rows[i]
        x = torch.zeros(16)
        x[: len(name[:16])] = torch.tensor([ord(c) / 128 for c in name[:16]])
        return x, int(lang)


ds = NamesDataset("names.csv")
train_ds, test_ds = random_split(ds, [len(ds) - 100, 100])
train_loader = DataLoader(train_ds, batch_size=32, num_workers=1)

model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
privacy_engine = PrivacyEngine()
model, optimizer, train_loader = privacy_engine.make_private(
    module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0
)
for epoch in range(5):
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
