"""Evaluation loops after a statement that switches gradients off for the rest of the function:
`torch.no_grad().__enter__()` and `torch.set_grad_enabled(False)`."""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(20, 64), nn.Dropout(0.1), nn.ReLU(), nn.Linear(64, 3))


def evaluate(batches):
    model.eval()
    torch.no_grad().__enter__()
    correct = 0
    for x, y in batches:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct


def test(batches):
    model.eval()
    torch.set_grad_enabled(False)
    scores = []
    for x, _ in batches:
        scores.append(model(x).softmax(1))
    return scores


data = [(torch.randn(8, 20), torch.randint(0, 3, (8,))) for _ in range(4)]
print(evaluate(data), len(test(data)))
