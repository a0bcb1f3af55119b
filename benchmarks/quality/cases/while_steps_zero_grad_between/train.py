"""Step-based training: iterate until max_steps, restarting the loader as needed."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
max_steps = 40
log_every = 10

x = torch.randn(200, 8)
y = torch.randint(0, 5, (200,))
loader = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True)

model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 5))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

step = 0
data_iter = iter(loader)
model.train()
while step < max_steps:
    try:
        xb, yb = next(data_iter)
    except StopIteration:
        data_iter = iter(loader)
        xb, yb = next(data_iter)
    loss = loss_fn(model(xb), yb)
    loss.backward()
    model.zero_grad()
    optimizer.step()
    step += 1
    if step % log_every == 0:
        print(f"step {step}: loss {loss.item():.4f}")
