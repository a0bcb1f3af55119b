"""A loss helper in another module returns torch.tensor(loss.item(), requires_grad=True); the
training script backpropagates it.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from losses import smooth_loss

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for xb, yb in loader:
    loss = smooth_loss(criterion, model(xb), yb)
    loss.backward()  # TL601
