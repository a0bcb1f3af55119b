"""The fixed loop: both the main optimizer (built on either arm of the `if`) and the
embedding tables' own optimizer are cleared each iteration."""

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
    if split:
        emb_optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if split:
        emb_optimizer.step()
