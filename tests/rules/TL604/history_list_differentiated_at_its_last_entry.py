"""An optimisation loop that keeps a loss history in a list and differentiates only its newest
entry: every older entry still holds its graph, so memory grows with each iteration."""

import torch
import torch.nn.functional as F

weights = torch.randn(10, requires_grad=True)
target = torch.randn(10)
optimizer = torch.optim.Adam([weights], lr=0.01)
history = []
for it in range(200):
    optimizer.zero_grad()
    loss = F.mse_loss(weights, target)
    history.append(loss)  # TL604
    history[-1].backward()
    optimizer.step()
    if len(history) > 2 and abs(history[-2].item() - history[-1].item()) < 1e-6:
        break
