"""A regression model whose padded targets are masked by overwriting the predictions through
`.data`: the loss ignores them, the gradient does not."""

import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


torch.manual_seed(0)
x = torch.randn(128, 6)
y = torch.randn(128, 10)
lengths = torch.randint(3, 11, (128,))
pad = torch.arange(10)[None, :] >= lengths[:, None]
y[pad] = 0.0
model = Regressor()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(5):
    for i in range(0, 128, 32):
        optimizer.zero_grad()
        pred = model(x[i : i + 32])
        pred.data[pad[i : i + 32]] = 0.0
        loss = nn.functional.mse_loss(pred, y[i : i + 32])
        loss.backward()
        optimizer.step()
