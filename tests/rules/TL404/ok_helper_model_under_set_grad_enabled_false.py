"""The same test helper, run with `torch.set_grad_enabled(False)` as a statement: no graph is built."""
import numpy as np
import torch


def test_model(loader, model):
    torch.set_grad_enabled(False)
    predicted, actual = [], []
    for inputs, targets in loader:
        outputs = model(inputs)  # ok: gradients are off
        predicted.extend(outputs.argmax(1).numpy())
        actual.extend(targets.numpy())
    torch.set_grad_enabled(True)
    return np.mean(np.array(predicted) == np.array(actual))
