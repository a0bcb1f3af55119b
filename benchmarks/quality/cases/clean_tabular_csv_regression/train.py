"""Energy-use regression from a CSV with gaps: impute, standardise, fit an MLP."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def write_csv(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 250, n)
    occupants = rng.integers(1, 6, n).astype(float)
    outdoor_temp = rng.normal(10, 8, n)
    kwh = 0.8 * area + 30 * occupants - 4 * outdoor_temp + rng.normal(0, 10, n)
    table = np.column_stack([area, occupants, outdoor_temp, kwh])
    features = table[:, :3]
    features[rng.random(features.shape) < 0.04] = np.nan
    np.savetxt(path, table, delimiter=",", header="area,occupants,outdoor_temp,kwh", comments="")


def load(path):
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    x, y = raw[:, :3], raw[:, 3:]
    mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    x = np.nan_to_num((x - mean) / std, nan=0.0)
    y = (y - y.mean()) / y.std()
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def main():
    torch.manual_seed(0)
    path = os.path.join(tempfile.mkdtemp(), "energy.csv")
    write_csv(path)
    x, y = load(path)
    loader = DataLoader(TensorDataset(x, y), batch_size=30, shuffle=True)
    model = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for epoch in range(2):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: mse {total / len(loader):.4f}")


if __name__ == "__main__":
    main()
