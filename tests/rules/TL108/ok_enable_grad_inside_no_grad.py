"""Test-time adaptation: evaluation runs under `@torch.no_grad()`, the adaptation step re-enables
grad with `torch.enable_grad()`.
"""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

test_loader = DataLoader(TensorDataset(torch.randn(128, 20), torch.randint(0, 3, (128,))), batch_size=32)
model = nn.Sequential(nn.Linear(20, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 3))
norm_params = [p for m in model.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()]
optimizer = torch.optim.SGD(norm_params, lr=1e-3)


@torch.no_grad()
def adapt_and_predict(x):
    with torch.enable_grad():
        probs = model(x).softmax(dim=1)
        entropy = -(probs * probs.clamp_min(1e-8).log()).sum(dim=1).mean()
        optimizer.zero_grad()
        entropy.backward()
        optimizer.step()
    return model(x).argmax(dim=1)


correct = 0
for x, y in test_loader:
    correct += (adapt_and_predict(x) == y).sum().item()
print(correct / 128)
