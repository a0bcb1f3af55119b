"""Two ways to compute the loss, one per arm of an `if`/`else`, each clearing the gradients
first; or a clear before the choice: every path clears."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
data = [(torch.randn(8, 10), torch.randn(8, 1)) for _ in range(4)]
mixture = torch.cuda.is_available()

for x, y in data:
    if mixture:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean() + model(x).abs().mean()
    else:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()

for step, (x, y) in enumerate(data):
    if step % 2 == 0:
        opt.zero_grad()  # accumulation over two batches: no other arm
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    if step % 2 == 1:
        opt.step()
