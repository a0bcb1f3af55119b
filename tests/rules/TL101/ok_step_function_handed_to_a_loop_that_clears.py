"""The same loop clears the gradients before handing the loss to its update step."""

import torch

model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def backprop(loss):
    loss.backward()
    optimizer.step()


def run_epoch(loader, update):
    for features, target in loader:
        loss = torch.nn.functional.mse_loss(model(features), target)
        optimizer.zero_grad()
        update(loss)


def fit(loader, epochs):
    for _ in range(epochs):
        run_epoch(loader, backprop)
