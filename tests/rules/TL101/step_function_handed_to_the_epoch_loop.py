"""The epoch loop takes its update step as an argument (one for full precision, one for
mixed precision in the real trainer); the step it is handed never clears the gradients, and
neither does the loop."""

import torch

model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def backprop(loss):
    loss.backward()  # TL101
    optimizer.step()


def run_epoch(loader, update):
    for features, target in loader:
        loss = torch.nn.functional.mse_loss(model(features), target)
        update(loss)


def fit(loader, epochs):
    for _ in range(epochs):
        run_epoch(loader, backprop)
