"""An optimizer loop that touches p.grad by hand: clearing there is TL101's concern."""

import torch
import torch.nn as nn

model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(10):
    loss = model(torch.randn(4, 3)).sum()
    loss.backward()
    for p in model.parameters():
        p.grad /= 4
    opt.step()
