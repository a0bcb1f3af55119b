"""The discriminator step detaches the generated samples, as GANs do."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

gen = nn.Linear(4, 8)
for xb, yb in loader:
    fake = gen(torch.randn(8, 4))
    d_loss = criterion(model(xb), yb) + criterion(model(fake.detach()), torch.zeros(8, dtype=torch.long))
    d_loss.backward()
