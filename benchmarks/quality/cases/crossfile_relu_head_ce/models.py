import torch.nn as nn


def make_classifier(n_features: int, n_classes: int, hidden: int = 64) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_classes),
        nn.ReLU(),
    )
