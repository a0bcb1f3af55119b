"""A two-headed model: after the backward and the step, the loss names are rebound to the
numbers a metrics object logged (`.item()` of each), and those are summed; one sum taken
before the rebinding still adds the loss tensor itself."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Metric:
    def __init__(self) -> None:
        self.stats = [0.0, 0.0]

    def update(self, values: list) -> None:
        self.stats = values

    def get_stats(self) -> list:
        return self.stats


data = TensorDataset(torch.randn(64, 8), torch.randint(0, 4, (64,)), torch.randint(0, 4, (64,)))
loader = DataLoader(data, batch_size=8, shuffle=True)
planner, controller = nn.Linear(8, 4), nn.Linear(8, 4)
optim = torch.optim.Adam(list(planner.parameters()) + list(controller.parameters()), lr=1e-3)
crit = nn.CrossEntropyLoss()
metrics = Metric()
for epoch in range(3):
    avg_p_loss, avg_c_loss, raw_total = 0.0, 0.0, 0.0
    for x, y, z in loader:
        planner_loss = crit(planner(x), y)
        controller_loss = crit(controller(x), z)
        optim.zero_grad()
        metrics.update([planner_loss.item(), controller_loss.item()])
        (planner_loss + controller_loss).backward()
        optim.step()
        raw_total += planner_loss  # TL604
        (planner_loss, controller_loss) = metrics.get_stats()
        avg_p_loss += planner_loss  # ok: a logged number now
        avg_c_loss += controller_loss  # ok: a logged number now
    print(avg_p_loss / len(loader), avg_c_loss / len(loader), raw_total)
