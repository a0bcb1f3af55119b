"""The pre-1.1.0 habit: a per-epoch StepLR stepped at the start of each epoch, so the first epoch
already runs at the second value of the schedule.

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
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.CrossEntropyLoss()
accum_steps = 4
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)

for epoch in range(3):
    scheduler.step()  # TL105
    for batch in tqdm(loader, desc=f"epoch {epoch}"):
        x, y = batch
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
