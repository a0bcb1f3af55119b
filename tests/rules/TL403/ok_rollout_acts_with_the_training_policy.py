"""A PPO rollout samples actions under `no_grad` with the policy in training mode: acting is
part of training (the update recomputes the same log-probabilities, dropout and all), not an
evaluation."""

import torch
import torch.nn as nn
from torch.distributions import Categorical


class ActorCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.actor = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Dropout(0.2), nn.Linear(64, 2), nn.Softmax(dim=-1))

    def act(self, state):
        dist = Categorical(self.actor(state))
        action = dist.sample()
        return action.detach(), dist.log_prob(action).detach()


class Agent:
    def __init__(self) -> None:
        self.policy = ActorCritic()
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=3e-4)

    def take_step(self, state):
        with torch.no_grad():
            return self.policy.act(state)

    def update(self, states, actions, returns):
        dist = Categorical(self.policy.actor(states))
        loss = -(dist.log_prob(actions) * returns).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


agent = Agent()
for episode in range(10):
    states, actions = torch.randn(32, 4), []
    for s in states:
        action, _ = agent.take_step(s)
        actions.append(action)
    agent.update(states, torch.stack(actions), torch.randn(32))
