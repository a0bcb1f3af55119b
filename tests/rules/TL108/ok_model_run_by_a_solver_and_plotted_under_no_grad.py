"""A neural ODE: the training forward hands the model to a solver (`odeint(func, y0, t)`),
which calls it out of sight with gradients on; every 20 iterations a helper plots its vector
field under `no_grad`. The only direct calls of the model are that plot, not its training."""

import torch
import torch.nn as nn
from torchdiffeq import odeint


class ODEFunc(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))

    def forward(self, t, y):
        return self.net(y**3)


def plot_field(odefunc: ODEFunc, grid: torch.Tensor) -> None:
    field = odefunc(0, grid)  # ok: a plot, under the caller's no_grad
    torch.save(field, "field.pt")


func = ODEFunc()
optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-3)
true_y0, t, true_y = torch.load("trajectory.pt")
grid = torch.randn(441, 2)
for itr in range(1, 2001):
    optimizer.zero_grad()
    pred_y = odeint(func, true_y0, t)
    loss = torch.mean(torch.abs(pred_y - true_y))
    loss.backward()
    optimizer.step()
    if itr % 20 == 0:
        with torch.no_grad():
            plot_field(func, grid)
