"""The same test passes, done right: one keeps numbers (`.item()`), the other runs under
`torch.no_grad()`, so no graph is built or kept."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 4))
criterion = nn.CrossEntropyLoss()
test_batches = [(torch.randn(32, 8), torch.randint(0, 4, (32,))) for _ in range(10)]


@torch.no_grad()
def test_without_grad():
    model.eval()
    total_loss = 0
    for x, y in test_batches:
        total_loss += criterion(model(x), y)
    return total_loss


def test_numbers():
    model.eval()
    total_loss = 0.0
    seen = 0
    for x, y in test_batches:
        loss = criterion(model(x), y)
        total_loss += loss.item()
        seen += len(y)
    return total_loss / seen


print(test_without_grad(), test_numbers())
