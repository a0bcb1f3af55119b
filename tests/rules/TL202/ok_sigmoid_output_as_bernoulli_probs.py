"""Sigmoid outputs passed as `Bernoulli(probs=...)` (positionally): the distribution takes them as probabilities."""
import torch
import torch.nn as nn
from torch.distributions import Bernoulli


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


gate = Gate()
optimizer = torch.optim.SGD(gate.parameters(), lr=0.01)
for step in range(10):
    obs = torch.randn(16, 4)
    dist = Bernoulli(gate(obs))
    choice = dist.sample()
    loss = -(dist.log_prob(choice) * torch.randn(16, 1)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
