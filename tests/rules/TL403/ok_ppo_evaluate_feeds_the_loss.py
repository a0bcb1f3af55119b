"""PPO's `evaluate(states, actions)` recomputes log-probabilities, values and entropy for the
loss: the update backpropagates what it returns, so it is part of training (its dropout is
meant to be on), whatever its name says."""

import torch
import torch.nn as nn
from torch.distributions import Categorical


class ActorCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Dropout(0.2), nn.Linear(64, 2), nn.Softmax(dim=-1))
        self.critic = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Dropout(0.2), nn.Linear(64, 1))

    def evaluate(self, states, actions):
        dist = Categorical(self.actor(states))
        return dist.log_prob(actions), self.critic(states).squeeze(-1), dist.entropy()


policy = ActorCritic()
optimizer = torch.optim.Adam(policy.parameters(), lr=3e-4)
for update in range(100):
    states, actions = torch.randn(64, 4), torch.randint(0, 2, (64,))
    old_logprobs, returns = torch.randn(64), torch.randn(64)
    logprobs, values, entropy = policy.evaluate(states, actions)
    ratio = torch.exp(logprobs - old_logprobs)
    advantages = returns - values.detach()
    loss = -(ratio * advantages).mean() + 0.5 * (returns - values).pow(2).mean() - 0.01 * entropy.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
