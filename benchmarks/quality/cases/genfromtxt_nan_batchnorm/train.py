"""Sensor regression from a CSV export that has empty cells for dropped readings."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
readings = rng.normal(size=(240, 5))
target = readings @ np.array([0.5, -1.0, 0.2, 0.0, 1.5]) + rng.normal(0, 0.1, 240)
rows = [",".join("" if rng.random() < 0.03 else f"{v:.4f}" for v in r) + f",{t:.4f}"
        for r, t in zip(readings, target)]
path = os.path.join(tempfile.mkdtemp(), "sensors.csv")
with open(path, "w") as fh:
    fh.write("s1,s2,s3,s4,s5,target\n" + "\n".join(rows) + "\n")

table = np.genfromtxt(path, delimiter=",", skip_header=1)
x = torch.from_numpy(table[:, :5]).float()
y = torch.from_numpy(table[:, 5]).float().unsqueeze(1)
loader = DataLoader(TensorDataset(x, y), batch_size=24, shuffle=True)

model = nn.Sequential(nn.BatchNorm1d(5), nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()

for epoch in range(2):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.4f}")
