"""`log_softmax` over the class axis before `F.nll_loss`; a softmax over dim 0 of one
unbatched state's scores that feeds a distribution, not a classification loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class PointClassifier(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.fc(x), dim=1)


class Policy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.fc(state), dim=0)


net = PointClassifier(5)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
loader = [(torch.randn(8, 16), torch.randint(0, 5, (8,))) for _ in range(4)]
for points, target in loader:
    optimizer.zero_grad()
    net = net.train()
    loss = F.nll_loss(net(points), target)
    loss.backward()
    optimizer.step()

policy = Policy()
action = Categorical(policy(torch.randn(4))).sample()
