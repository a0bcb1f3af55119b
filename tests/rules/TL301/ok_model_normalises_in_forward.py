"""The model's forward starts with a LayerNorm over its input, so the raw 0-255 scale never
reaches the first Linear.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(64)
        self.fc = nn.Linear(64, 2)

    def forward(self, x):
        x = self.norm(x.flatten(1))
        return self.fc(x)

images = torch.randint(0, 256, (128, 64)).float()
loader = DataLoader(TensorDataset(images, torch.zeros(128, dtype=torch.long)), batch_size=16, shuffle=True)
model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for xb, yb in loader:
    opt.zero_grad()
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()
