import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def write_fake_listings(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    sqft = rng.uniform(500, 4000, n)
    rooms = rng.integers(1, 7, n)
    year = rng.integers(1950, 2022, n)
    price = 120 * sqft + 8000 * rooms + 300 * (year - 1950) + rng.normal(0, 20000, n)
    table = np.column_stack([sqft, rooms, year, price / 1000.0])
    np.savetxt(path, table, delimiter=",", header="sqft,rooms,year,price_k", comments="", fmt="%.2f")


csv_path = os.path.join(tempfile.mkdtemp(), "listings.csv")
write_fake_listings(csv_path)

data = np.genfromtxt(csv_path, delimiter=",", skip_header=1)
data = data[~np.isnan(data).any(axis=1)]  # drop incomplete listings
features = torch.tensor(data[:, :3], dtype=torch.float32)
prices = torch.tensor(data[:, 3:], dtype=torch.float32)
loader = DataLoader(TensorDataset(features, prices), batch_size=30, shuffle=True)

model = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(2):
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: mse {total / len(loader):.1f}")
