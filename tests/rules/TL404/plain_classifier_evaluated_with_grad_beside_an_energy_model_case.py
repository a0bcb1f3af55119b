"""The same test loop over a plain classifier, whose forward takes no gradient: it keeps a
graph per batch for nothing and belongs under `no_grad`."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, n_cls: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, n_cls))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test(model: nn.Module, loader) -> float:
    model.eval()
    correct = 0
    for data, target in loader:
        output = model(data)  # TL404
        correct += int((output.argmax(1) == target).sum())
    return correct / len(loader)


def train(model: nn.Module, loader, optimizer) -> None:
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(data), target).backward()
        optimizer.step()


model = Classifier()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
batches = [(torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))) for _ in range(4)]
train(model, batches, opt)
print(test(model, batches))
