"""Evaluation only: a loaded model scored under `torch.no_grad()`; nothing trains."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
model.load_state_dict(torch.load("model.pt"))
model.eval()
criterion = nn.CrossEntropyLoss()
test_loader = DataLoader(TensorDataset(torch.randn(128, 20), torch.randint(0, 3, (128,))), batch_size=64)

total, correct, loss_sum = 0, 0, 0.0
with torch.no_grad():
    for x, y in test_loader:
        out = model(x)
        loss_sum += criterion(out, y).item()
        correct += (out.argmax(dim=1) == y).sum().item()
        total += y.numel()
print(loss_sum / len(test_loader), correct / total)
