"""An evaluation loop that calls a model method running the model's layers (not `forward`)
with gradients enabled."""

import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2))
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.body(x))

    def embed(self, x):
        return self.body(x)


def embed_all(model, batches):
    model.eval()
    out = []
    for x in batches:
        out.append(model.embed(x).cpu())  # TL404
    return torch.cat(out)


model = Encoder()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(5):
    x, y = torch.randn(16, 8), torch.randint(0, 3, (16,))
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
embeddings = embed_all(model, [torch.randn(16, 8) for _ in range(4)])
