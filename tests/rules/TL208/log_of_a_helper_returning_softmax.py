"""An actor-critic whose `pi()` method returns a softmax: the log of the probability picked for
the taken action, and the log of the whole distribution, both reached through the method."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ActorCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 64)
        self.head = nn.Linear(64, 2)
        self.value = nn.Linear(64, 1)

    def pi(self, x, softmax_dim=0):
        return F.softmax(self.head(F.relu(self.body(x))), dim=softmax_dim)

    def v(self, x):
        return self.value(F.relu(self.body(x)))


model = ActorCritic()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
for _ in range(10):
    s = torch.randn(16, 4)
    a = torch.randint(0, 2, (16, 1))
    delta = torch.randn(16, 1)
    pi = model.pi(s, softmax_dim=1)
    pi_a = pi.gather(1, a)
    loss = -torch.log(pi_a) * delta  # TL208
    loss = loss - 0.01 * (pi.detach() * torch.log(pi)).sum(1, keepdim=True)  # TL208
    optimizer.zero_grad()
    loss.mean().backward()
    optimizer.step()
