"""House-price features (square feet, year) read from a CSV go into a float tensor unscaled."""

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

df = pd.read_csv("houses.csv").dropna()
features = torch.tensor(df[["sqft", "year"]].values, dtype=torch.float32)  # TL301
target = torch.tensor(df["price"].values, dtype=torch.float32)
loader = DataLoader(TensorDataset(features, target), batch_size=16, shuffle=True)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(xb).squeeze(1), yb)
    loss.backward()
    optimizer.step()
