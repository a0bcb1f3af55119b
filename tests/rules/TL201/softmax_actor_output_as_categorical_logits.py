"""An actor that ends with `nn.Softmax` has its probabilities passed as `logits=`: the distribution softmaxes them again."""
import torch
import torch.nn as nn
from torch.distributions import Categorical


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2), nn.Softmax(dim=-1))  # TL201

    def forward(self, x):
        return self.net(x)


actor = Actor()
optimizer = torch.optim.Adam(actor.parameters(), lr=1e-3)
for episode in range(10):
    obs = torch.randn(16, 4)
    with torch.no_grad():
        actions = Categorical(logits=actor(obs)).sample()
    dist = torch.distributions.Categorical(logits=actor(obs))
    loss = -(dist.log_prob(actions) * torch.randn(16)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
