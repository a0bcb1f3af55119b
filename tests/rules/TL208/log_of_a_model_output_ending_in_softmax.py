"""The log of a policy's action probabilities, where the policy network ends in `nn.Softmax`."""

import torch
import torch.nn as nn

policy = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2), nn.Softmax(dim=1))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
for _ in range(10):
    states = torch.randn(32, 4)
    actions = torch.randint(0, 2, (32,))
    advantages = torch.randn(32)
    probs = policy(states)
    chosen = probs[torch.arange(32), actions]
    loss = -(chosen.log() * advantages).mean()  # TL208
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
