import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

NUM_CLASSES = 5

torch.manual_seed(0)
centers = 3 * torch.randn(NUM_CLASSES, 16)
labels = torch.randint(0, NUM_CLASSES, (500,))
samples = centers[labels] + torch.randn(500, 16)
train_loader = DataLoader(TensorDataset(samples, labels), batch_size=50, shuffle=True)

model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, NUM_CLASSES))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.MSELoss()

for epoch in range(2):
    model.train()
    correct = 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        scores = model(xb)
        loss = criterion(scores, F.one_hot(yb, NUM_CLASSES).float())
        loss.backward()
        optimizer.step()
        correct += (scores.argmax(dim=1) == yb).sum().item()
    print(f"epoch {epoch}: loss {loss.item():.4f} acc {correct / len(samples):.3f}")
