"""A policy trainer that receives its rate from the settings class in another module."""

import torch
import torch.nn as nn
from configuration import config


class Agent:
    def __init__(self, lr: float) -> None:
        self.policy = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)  # TL501

    def update(self, states: torch.Tensor, returns: torch.Tensor) -> None:
        loss = -(torch.log_softmax(self.policy(states), dim=1)[:, 0] * returns).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()


agent = Agent(config.lr)
for episode in range(config.num_episodes):
    agent.update(torch.randn(16, 4), torch.randn(16))
