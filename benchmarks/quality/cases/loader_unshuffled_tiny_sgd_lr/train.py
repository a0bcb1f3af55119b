import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

# samples arrive grouped by class, as they would from a per-class export
per_class = 100
x = torch.cat([torch.randn(per_class, 8) + 2 * k for k in range(3)])
y = torch.arange(3).repeat_interleave(per_class)
train_loader = DataLoader(TensorDataset(x, y), batch_size=25)

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-7)
criterion = nn.CrossEntropyLoss()

for epoch in range(2):
    model.train()
    running = 0.0
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
    print(f"epoch {epoch}: {running / len(train_loader):.4f}")
