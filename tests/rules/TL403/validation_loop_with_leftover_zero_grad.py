"""A classification project's `fit_one_epoch` trains after `model_train.train()` and then
validates in the same mode. The validation loop was copied from the training loop and still
calls `optimizer.zero_grad()` under `torch.no_grad()`: that clears gradients but trains
nothing, so the loop is an evaluation, run with dropout and batch norm in training mode."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x)


def fit_one_epoch(model_train, optimizer, gen, gen_val):
    model_train.train()
    for images, targets in gen:
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model_train(images), targets)
        loss.backward()
        optimizer.step()
    val_loss = 0.0
    for images, targets in gen_val:
        with torch.no_grad():
            optimizer.zero_grad()
            outputs = model_train(images)  # TL403
            val_loss += nn.CrossEntropyLoss()(outputs, targets).item()
    return val_loss


model = Net()
optimizer = torch.optim.Adam(model.parameters())
gen = [(torch.randn(4, 4), torch.randint(0, 2, (4,)))]
for epoch in range(3):
    fit_one_epoch(model, optimizer, gen, gen)
