"""The per-layer penalties are combined with `torch.stack`, which keeps their graph; a
`torch.tensor` of plain numbers (weights from a config) carries no graph to lose."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cells = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.head = nn.Linear(8, 1)

    def forward(self, x, y, weights):
        penalties = []
        h = x
        for cell in self.cells:
            h = torch.tanh(cell(h))
            penalties.append(torch.mean(torch.abs(h)))
        penalty = torch.stack(penalties).mean()
        scale = torch.tensor(weights).mean()
        out = self.head(h)
        return out, F.mse_loss(out, y) + 0.1 * penalty + scale * 0.0


net = Net()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
for step in range(10):
    x, y = torch.randn(16, 8), torch.randn(16, 1)
    optimizer.zero_grad()
    out, loss = net(x, y, [0.5, 1.0, 2.0])
    loss.backward()
    optimizer.step()
