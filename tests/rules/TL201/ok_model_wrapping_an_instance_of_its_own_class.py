"""A module that wraps another instance of its own class (a decoder adapter around a decoder):
reading what its `forward` returns must not follow the wrapping forever."""

import torch
import torch.nn as nn


class Adapter(nn.Module):
    def __init__(self, inner=None) -> None:
        super().__init__()
        self.inner = inner
        self.proj = nn.Linear(8, 8)

    def forward(self, x, state, extra=None):
        if self.inner is None:
            return self.proj(x)
        return self.inner(x, state, extra)


base = Adapter()
model = Adapter(base)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x = torch.randn(4, 8)
    loss = nn.functional.mse_loss(model(x, None), x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
