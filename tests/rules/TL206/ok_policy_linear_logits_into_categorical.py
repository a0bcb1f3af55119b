"""The actor ends with a plain linear layer: raw scores are what `Categorical(logits=...)` expects."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 64)
        self.fc2 = nn.Linear(64, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(x)


policy = Policy()
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
for episode in range(10):
    obs = torch.randn(16, 4)
    dist = Categorical(logits=policy(obs))
    actions = dist.sample()
    returns = torch.randn(16)
    loss = -(dist.log_prob(actions) * returns).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
