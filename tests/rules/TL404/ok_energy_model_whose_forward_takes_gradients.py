"""A deep energy model predicts by descending its energy: `forward` starts from a label guess
made with `requires_grad=True` and takes gradient steps on it with `torch.autograd.grad`. Its
test loop cannot run under `no_grad`, which would break the prediction itself."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class EnergyModel(nn.Module):
    def __init__(self, n_cls: int = 10, steps: int = 5) -> None:
        super().__init__()
        self.enet = nn.Sequential(nn.Linear(784 + n_cls, 64), nn.Softplus(), nn.Linear(64, 1))
        self.n_cls, self.steps = n_cls, steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.zeros(x.size(0), self.n_cls, requires_grad=True)
        for _ in range(self.steps):
            energy = self.enet(torch.cat([x.flatten(1), y], 1)).sum()
            (grad,) = torch.autograd.grad(energy, y, create_graph=self.training)
            y = y - 0.1 * grad
        return y


def test(model: nn.Module, loader) -> float:
    model.eval()
    correct = 0
    for data, target in loader:
        output = model(data)
        correct += int((output.argmax(1) == target).sum())
    return correct / len(loader)


def train(model: nn.Module, loader, optimizer) -> None:
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(data), target).backward()
        optimizer.step()


model = EnergyModel()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
batches = [(torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))) for _ in range(4)]
train(model, batches, opt)
print(test(model, batches))
