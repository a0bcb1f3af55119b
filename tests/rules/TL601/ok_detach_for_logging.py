"""The loss is detached and converted only for the history and the printout; backward() gets the
real loss.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

history = []
for xb, yb in loader:
    optimizer.zero_grad()
    loss = criterion(model(xb), yb)
    history.append(loss.detach().cpu().item())
    print(float(loss))
    loss.backward()
    optimizer.step()
