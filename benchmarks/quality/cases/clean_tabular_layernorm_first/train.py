import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

# write a small loan-default table; income and balance are on very different scales
rng = np.random.default_rng(1)
n = 320
income = rng.normal(55000, 15000, n)
balance = rng.exponential(4000, n)
age = rng.integers(21, 70, n)
default = ((balance / income > 0.08) | (age < 25)).astype(int)
csv_path = os.path.join(tempfile.mkdtemp(), "loans.csv")
np.savetxt(csv_path, np.column_stack([income, balance, age, default]), delimiter=",",
           header="income,balance,age,default", comments="", fmt="%.2f")

raw = np.genfromtxt(csv_path, delimiter=",", skip_header=1)
features = torch.nan_to_num(torch.from_numpy(raw[:, :3]).float())
labels = torch.from_numpy(raw[:, 3]).long()
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)

model = nn.Sequential(nn.LayerNorm(3), nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(2):
    correct = 0
    for xb, yb in loader:
        optimizer.zero_grad()
        logits = model(xb)
        loss = criterion(logits, yb)
        loss.backward()
        optimizer.step()
        correct += (logits.argmax(1) == yb).sum().item()
    print(f"epoch {epoch}: loss {loss.item():.4f} acc {correct / n:.3f}")
