"""The policy ends in `nn.LogSoftmax`: its output is already a log-probability, and the log of
a model that ends in a linear layer (a positive rate, by construction of the data) is not a
softmax's."""

import torch
import torch.nn as nn

policy = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2), nn.LogSoftmax(dim=1))
rate = nn.Sequential(nn.Linear(4, 8), nn.Softplus())
optimizer = torch.optim.Adam([*policy.parameters(), *rate.parameters()], lr=1e-3)
for _ in range(10):
    states = torch.randn(32, 4)
    actions = torch.randint(0, 2, (32,))
    advantages = torch.randn(32)
    log_probs = policy(states)
    chosen = log_probs[torch.arange(32), actions]
    loss = -(chosen * advantages).mean() + rate(states).log().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
