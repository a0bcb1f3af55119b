"""The twin: `pi()` returns a log-softmax (its picked entries are log-probabilities already), and
a name that a softmax reaches on one path only is left alone."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ActorCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 64)
        self.head = nn.Linear(64, 2)

    def log_pi(self, x, softmax_dim=0):
        return F.log_softmax(self.head(F.relu(self.body(x))), dim=softmax_dim)


model = ActorCritic()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
for step in range(10):
    s = torch.randn(16, 4)
    a = torch.randint(0, 2, (16, 1))
    delta = torch.randn(16, 1)
    log_pi_a = model.log_pi(s, softmax_dim=1).gather(1, a)
    weights = torch.softmax(delta, dim=0) if step % 2 else torch.rand(16, 1) + 0.5
    loss = -log_pi_a * delta + torch.log(weights)
    optimizer.zero_grad()
    loss.mean().backward()
    optimizer.step()
