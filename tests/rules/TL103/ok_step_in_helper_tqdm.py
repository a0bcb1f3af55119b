"""The parameters are updated with a helper that calls `optimizer.step()` and `zero_grad()`.

Shape: the batch loop wrapped in `tqdm(loader)`.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

features = torch.randn(256, 20)
labels = torch.randint(0, 3, (256,))
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 20), torch.randint(0, 3, (64,))), batch_size=64)
def apply_update(optimizer):
    optimizer.step()
    optimizer.zero_grad()
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
accum_steps = 4

for epoch in range(3):
    for batch in tqdm(loader, desc=f"epoch {epoch}"):
        x, y = batch
        loss = criterion(model(x), y)
        loss.backward()
        apply_update(optimizer)
