import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    def tqdm(iterable, **kwargs):
        return iterable


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 32), nn.SiLU(), nn.Linear(32, 32), nn.SiLU())
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(-1)


torch.manual_seed(0)
inputs = torch.randn(300, 6)
targets = torch.sin(inputs[:, 0]) + 0.5 * inputs[:, 1]
loader = DataLoader(TensorDataset(inputs, targets), batch_size=25, shuffle=True)

model = Regressor()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
criterion = nn.SmoothL1Loss()

for epoch in range(2):
    model.train()
    running = 0.0
    for batch in tqdm(loader, desc=f"epoch {epoch}"):
        x, y = batch
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        running += loss.item()
    print(f"epoch {epoch}: {running / len(loader):.4f}")
