"""A pooling model returns its output and the fraction of nodes it kept, computed from tensor
sizes: a plain number. The evaluation loop (run with gradients on) sums that fraction, which
carries no graph."""

import torch
import torch.nn as nn


class Pooling(nn.Module):
    def __init__(self):
        super().__init__()
        self.score = nn.Linear(8, 1)

    def forward(self, x):
        keep = self.score(x).squeeze(-1) > 0
        out = x[keep]
        ratio = out.size(0) / x.size(0)
        return out.sum(), ratio


model = Pooling()
batches = [torch.randn(10, 8) for _ in range(4)]


def test():
    model.eval()
    total_ratio = 0
    for x in batches:
        _, ratio = model(x)
        total_ratio += ratio
    return total_ratio / len(batches)


print(test())
