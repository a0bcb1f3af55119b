"""A training method feeds `BCELoss` a model's output and also thresholds `sigmoid(output)` for
its accuracy. The model it is handed ends in a sigmoid, so the loss gets probabilities: the
extra sigmoid is a (wrong) metric, not a sign of logits."""

import torch
import torch.nn as nn
from torch import sigmoid


class Handler:
    def train(self, model: nn.Module, batches, epochs: int) -> float:
        criterion = nn.BCELoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        correct = 0.0
        for _ in range(epochs):
            for data, target in batches:
                optimizer.zero_grad()
                output = model(data)
                loss = criterion(output, target)
                correct += (sigmoid(output) >= 0.5).eq(target).float().sum().item()
                loss.backward()
                optimizer.step()
        return correct
