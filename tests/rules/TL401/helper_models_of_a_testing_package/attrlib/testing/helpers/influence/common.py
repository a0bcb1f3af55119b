"""A helper model for the library's own tests, deep inside its `testing/` package: constant
weights give influence scores the tests can check by hand."""

import torch.nn as nn


class BasicLinearNet(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, 4)
        self.out = nn.Linear(4, out_features)
        nn.init.constant_(self.fc.weight, 0.5)  # ok: a test helper with known outputs
        nn.init.constant_(self.out.weight, 0.25)  # ok: a test helper with known outputs

    def forward(self, x):
        return self.out(self.fc(x))
