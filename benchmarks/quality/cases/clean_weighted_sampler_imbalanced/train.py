import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

torch.manual_seed(0)
# 9:1 class imbalance, rebalanced by sampling
n_major, n_minor = 270, 30
x = torch.cat([torch.randn(n_major, 8), torch.randn(n_minor, 8) + 1.5])
y = torch.cat([torch.zeros(n_major), torch.ones(n_minor)]).long()
class_counts = torch.bincount(y).float()
sample_weights = (1.0 / class_counts)[y]
sampler = WeightedRandomSampler(sample_weights, num_samples=len(y), replacement=True)
loader = DataLoader(TensorDataset(x, y), batch_size=30, sampler=sampler)

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

for epoch in range(2):
    minority_seen = 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        minority_seen += int(yb.sum())
    print(f"epoch {epoch}: loss {loss.item():.4f} minority share {minority_seen / len(y):.2f}")
