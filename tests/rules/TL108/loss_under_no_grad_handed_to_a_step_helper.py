"""A self-imitation update computes its loss inside `torch.no_grad()` (pasted from the
evaluation code) and hands it to the network's training step, whose `backward()` gets a loss
with no graph."""

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.optim = torch.optim.Adam(self.parameters(), lr=1e-3)

    def forward(self, x):
        return self.fc(x)

    def training_step(self, loss):
        self.optim.zero_grad()
        loss.backward()
        self.optim.step()
        return loss


def train(loader):
    net = Net()
    for x, y in loader:
        with torch.no_grad():
            loss = nn.functional.mse_loss(net(x), y)  # TL108
        net.training_step(loss)
