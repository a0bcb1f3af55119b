from torch import nn


class WideDeep(nn.Module):
    """Tabular network: a wide linear part plus a deep part with batch norm and dropout."""

    def __init__(self, n_features: int, n_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.wide = nn.Linear(n_features, n_classes)
        self.deep = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(0.4),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.wide(x) + self.deep(x)
