"""A super-resolution trainer starts each epoch by stepping the schedulers of those loss modules
that have one (`if hasattr(module, "scheduler")`). None of them do: the adversarial loss keeps only
an optimizer, so nothing is stepped before the epoch's optimizer steps."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Adversarial(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dis = nn.Linear(16, 1)
        self.optimizer = torch.optim.Adam(self.dis.parameters(), lr=1e-4)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        return F.softplus(-self.dis(fake)).mean()


class Loss(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loss = nn.ModuleList([nn.L1Loss(), Adversarial()])

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return sum(f(sr, hr) for f in self.loss)

    def step(self) -> None:
        for module in self.loss:
            if hasattr(module, "scheduler"):
                module.scheduler.step()


model = nn.Linear(16, 16)
loss = Loss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for epoch in range(10):
    loss.step()
    for _ in range(20):
        lr, hr = torch.randn(8, 16), torch.randn(8, 16)
        optimizer.zero_grad()
        loss(model(lr), hr).backward()
        optimizer.step()
