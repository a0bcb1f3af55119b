"""Probabilities passed as `probs=`, and log-probabilities as `logits=` (a log_softmax changes nothing there): both right."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2), nn.Softmax(dim=-1))

    def forward(self, x):
        return self.net(x)


class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=-1)


actor = Actor()
scorer = Scorer()
optimizer = torch.optim.Adam(list(actor.parameters()) + list(scorer.parameters()), lr=1e-3)
for episode in range(10):
    obs = torch.randn(16, 4)
    dist = Categorical(probs=actor(obs))
    other = Categorical(logits=scorer(obs))
    actions = dist.sample()
    loss = -((dist.log_prob(actions) + other.log_prob(actions)) * torch.randn(16)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
