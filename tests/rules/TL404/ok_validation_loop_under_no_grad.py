"""The validation loop after each epoch runs inside torch.no_grad()."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(14, 64), nn.ReLU(), nn.Linear(64, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(100, 14), torch.randint(0, 2, (100,))
for epoch in range(2):
    model.train()
    for i in range(0, 100, 20):
        optimizer.zero_grad()
        loss = criterion(model(x[i:i + 20]), y[i:i + 20])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
      for i in range(0, 100, 50):
        logits = model(x[i:i + 50])
        val_loss = criterion(logits, y[i:i + 50]).item()
