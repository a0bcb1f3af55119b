"""A small library module: `fit` puts the model it is given in training mode and trains it,
leaving it in training mode; `accuracy`, beside it, measures a model it is given without
switching it to eval mode. Called after `fit`, as the module intends, it measures in
training mode.
"""

import torch


def fit(loader, model, optimizer, epochs=10):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
    return model


def accuracy(loader, model):
    right, seen = 0, 0
    for x, y in loader:
        right += (model(x).argmax(1) == y).sum().item()  # TL403
        seen += len(y)
    return right / seen
