"""Step-budgeted training with periodic evaluation."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
max_steps, eval_every = 40, 20

x = torch.randn(400, 12)
y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).long()
train_loader = DataLoader(TensorDataset(x[:320], y[:320]), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(x[320:], y[320:]), batch_size=80)

model = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 2))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=max_steps)
criterion = nn.CrossEntropyLoss()

step = 0
train_iter = iter(train_loader)
model.train()
while step < max_steps:
    try:
        xb, yb = next(train_iter)
    except StopIteration:
        train_iter = iter(train_loader)
        xb, yb = next(train_iter)
    for p in model.parameters():
        p.grad = None
    loss = criterion(model(xb), yb)
    loss.backward()
    optimizer.step()
    scheduler.step()
    step += 1

    if step % eval_every == 0:
        model.eval()
        with torch.no_grad():
            correct = sum((model(vx).argmax(1) == vy).sum().item() for vx, vy in val_loader)
        model.train()
        print(f"step {step}: loss {loss.item():.4f} val acc {correct / 80:.3f}")
