"""The model is one of two project classes chosen by a flag, and the test loop calls a
method of the model that runs its own forward and the objective, with autograd recording."""

import argparse

import torch
import torch.nn as nn


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))

    def objective(self, x, y):
        prob = self.forward(x).clamp(1e-5, 1 - 1e-5).squeeze(1)
        return -(y * prob.log() + (1 - y) * (1 - prob).log()).mean()


class Gated(Plain):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(10, 10)

    def forward(self, x):
        return torch.sigmoid(self.fc(x * torch.sigmoid(self.gate(x))))


parser = argparse.ArgumentParser()
parser.add_argument("--model", default="plain")
args = parser.parse_args()
if args.model == "plain":
    model = Plain()
else:
    model = Gated()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
train_data = [(torch.randn(4, 10), torch.randint(0, 2, (4,)).float()) for _ in range(8)]
test_data = [(torch.randn(4, 10), torch.randint(0, 2, (4,)).float()) for _ in range(4)]


def train():
    model.train()
    for x, y in train_data:
        optimizer.zero_grad()
        loss = model.objective(x, y)
        loss.backward()
        optimizer.step()


def test():
    model.eval()
    total = 0.0
    for x, y in test_data:
        loss = model.objective(x, y)  # TL404
        total += loss.item()
    return total / len(test_data)


for epoch in range(3):
    train()
print(test())
