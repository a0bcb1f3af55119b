"""A library's model-testing helper: it receives the network from its user (no caller in sight),
moves it to the device and runs it over the test loader with gradients enabled. The training
helper of the same module enables gradients with `torch.set_grad_enabled(True)`, which turns
nothing off."""
import numpy as np
import torch


def train_model(loader, model, criterion, optimizer, epochs=10):
    for epoch in range(epochs):
        model.train()
        for inputs, targets in loader:
            optimizer.zero_grad()
            with torch.set_grad_enabled(True):
                loss = criterion(model(inputs), targets)
                loss.backward()
                optimizer.step()
    return model


def test_model(loader, model):
    model = model.to("cuda")
    predicted, actual = [], []
    for inputs, targets in loader:
        outputs = model(inputs.to("cuda"))  # TL404
        predicted.extend(outputs.argmax(1).cpu().numpy())
        actual.extend(targets.numpy())
    return np.mean(np.array(predicted) == np.array(actual))
