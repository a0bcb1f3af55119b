"""The criterion returns a dict of loss terms; the loop differentiates its `"loss"` entry and
then hands every entry, graph and all, to a dict of running-average meters (one per term),
whose sums keep every iteration's graph alive."""

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class AverageMeter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sum = 0.0
        self.count = 0

    def update(self, val, n: int = 1) -> None:
        self.sum += val * n
        self.count += n


def criterion(out: torch.Tensor, y: torch.Tensor) -> dict:
    mse = F.mse_loss(out, y)
    l1 = F.l1_loss(out, y)
    return {"loss": mse + 0.1 * l1, "mse": mse, "l1": l1}


model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
metrics = OrderedDict([(name, AverageMeter(name)) for name in ("loss", "mse", "l1")])
for step in range(100):
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    loss_dict = criterion(model(x), y)
    loss = loss_dict["loss"]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    for k in loss_dict:
        metrics[k].update(loss_dict[k], x.shape[0])  # TL604
