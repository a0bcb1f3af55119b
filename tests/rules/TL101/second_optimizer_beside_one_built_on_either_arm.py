"""On the model-parallel path the embedding tables get their own optimizer; the main optimizer
is built on either arm of the same `if` (over the dense layers, or over everything). The loop
clears the main optimizer only, so the embedding optimizer steps on gradients summed over
every batch so far."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Recommender(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.EmbeddingBag(100, 8)
        self.mlp = nn.Linear(8, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.emb(ids))


model = Recommender()
split = True
if split:
    optimizer = torch.optim.SGD(model.mlp.parameters(), lr=0.1)
    emb_optimizer = torch.optim.SGD(model.emb.parameters(), lr=0.1)
else:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for step in range(100):
    ids, y = torch.randint(0, 100, (16, 4)), torch.rand(16, 1)
    loss = F.mse_loss(model(ids), y)
    optimizer.zero_grad()
    loss.backward()  # TL101
    optimizer.step()
    if split:
        emb_optimizer.step()
