"""A classifier returns `log_softmax` over dim 0, the batch axis, and trains with `F.nll_loss`
(the model is re-bound by `net = net.train()` inside the loop)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class PointClassifier(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor):
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=0), x  # TL207


net = PointClassifier(5)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
loader = [(torch.randn(8, 16), torch.randint(0, 5, (8,))) for _ in range(4)]
for points, target in loader:
    optimizer.zero_grad()
    net = net.train()
    pred, _ = net(points)
    loss = F.nll_loss(pred, target)
    loss.backward()
    optimizer.step()
