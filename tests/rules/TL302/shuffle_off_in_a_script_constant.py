"""A training script keeps its settings as constants at the top; `shuffle = False` is never
changed, so the training loader reads the windows in their stored (chronological) order on
every epoch."""

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

epochs = 100
shuffle = False

table = np.load("features.npy")
train_set = TensorDataset(torch.from_numpy(table[:, :-1]).float(), torch.from_numpy(table[:, -1:]).float())
train_loader = DataLoader(train_set, batch_size=64, shuffle=shuffle)  # TL302

model = torch.nn.Sequential(torch.nn.Linear(table.shape[1] - 1, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = torch.nn.BCEWithLogitsLoss()

for epoch in range(epochs):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
