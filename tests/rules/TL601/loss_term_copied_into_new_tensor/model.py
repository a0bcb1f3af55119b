"""A recurrent model computes its own loss in `forward`: a prediction loss plus a penalty
averaged over per-layer terms. The terms are gathered with `torch.tensor(list)`, which copies
their values into a new tensor without their history, so the penalty trains nothing."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, beta: float = 0.1) -> None:
        super().__init__()
        self.cells = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.head = nn.Linear(8, 1)
        self.beta = beta

    def forward(self, x, y):
        penalties = []
        h = x
        for cell in self.cells:
            h = torch.tanh(cell(h))
            penalties.append(torch.mean(torch.abs(h)))
        penalty = torch.mean(torch.tensor(penalties).to(x.device))
        out = self.head(h)
        loss = F.mse_loss(out, y) + self.beta * penalty  # TL601
        return out, loss
