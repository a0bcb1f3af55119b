"""The fixed tabular model: for "multiclass" the activation helper returns the raw scores that
`F.cross_entropy` expects; only the binary branch applies a sigmoid, and its loss is the plain
`F.binary_cross_entropy`. Returns chosen by other values of the setting never reach the loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class WideDeep(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(), nn.Linear(64, n_out))

    def compile(self, method: str) -> None:
        self.method = method
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)

    def forward(self, x):
        return self.net(x)

    def _activation_fn(self, out):
        if self.method == "regression":
            return out
        if self.method == "binary":
            return torch.sigmoid(out)
        if self.method == "multiclass":
            return out

    def _loss_fn(self, y_pred, y_true):
        if self.method == "regression":
            return F.mse_loss(y_pred, y_true.view(-1, 1))
        if self.method == "binary":
            return F.binary_cross_entropy(y_pred, y_true.view(-1, 1))
        if self.method == "multiclass":
            return F.cross_entropy(y_pred, y_true)

    def training_step(self, x, y):
        self.optimizer.zero_grad()
        y_pred = self._activation_fn(self.forward(x))
        loss = self._loss_fn(y_pred, y)
        loss.backward()
        self.optimizer.step()
        return loss.item()


model = WideDeep(10, 3)
model.compile("multiclass")
for step in range(5):
    model.training_step(torch.randn(16, 10), torch.randint(0, 3, (16,)))
