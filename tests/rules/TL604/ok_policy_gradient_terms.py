"""REINFORCE-style terms collected in a list, stacked and backpropagated."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for xb, yb in loader:
    terms = []
    for log_prob, ret in zip(model(xb).log_softmax(1)[:, 0], yb.float()):
        terms.append(-log_prob * ret)
    loss = torch.stack(terms).sum()
    loss.backward()
