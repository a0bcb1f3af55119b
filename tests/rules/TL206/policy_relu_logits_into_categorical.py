"""An actor whose last layer is a ReLU hands its scores to `Categorical(logits=...)`: no action can get a negative score."""
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
        return F.relu(self.fc2(x))  # TL206


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
