"""Two ways to compute the loss, one per arm of an `if`/`else`; only the plain arm clears
the gradients, and the shared backward and step then accumulate on the other path."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
data = [(torch.randn(8, 10), torch.randn(8, 1)) for _ in range(4)]
mixture = torch.cuda.is_available()

for x, y in data:
    if mixture:
        loss = ((model(x) - y) ** 2).mean() + model(x).abs().mean()
    else:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
    loss.backward()  # TL101
    opt.step()
