import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(300, 8)
y = (x[:, 0] ** 2 + x[:, 1] ** 2 < 1.5).float().unsqueeze(1)
loader = DataLoader(TensorDataset(x, y), batch_size=30, shuffle=True)

model = nn.Sequential(
    nn.Linear(8, 32),
    nn.ReLU(),
    nn.Linear(32, 1),
    nn.Sigmoid(),
)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(2):
    model.train()
    total, correct = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        probs = model(xb)
        loss = criterion(probs, yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
        correct += ((probs > 0.5).float() == yb).sum().item()
    print(f"epoch {epoch}: loss {total / len(loader):.4f} acc {correct / len(x):.3f}")
