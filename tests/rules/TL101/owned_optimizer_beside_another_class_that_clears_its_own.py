"""Two agent classes: the actor-critic clears its own optimizer, the DQN does not. The
actor-critic's `self.optimizer.zero_grad()` clears nothing of the DQN's."""

import torch
import torch.nn as nn


class ActorCritic:
    def __init__(self, n):
        self.net = nn.Linear(n, 2)
        self.optimizer = torch.optim.Adam(self.net.parameters())

    def training(self, states, returns):
        self.optimizer.zero_grad()
        loss = (self.net(states).sum(1) - returns).pow(2).mean()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class DQN:
    def __init__(self, n):
        self.model1 = nn.Linear(n, 4)
        self.optimizer = torch.optim.Adam(self.model1.parameters())
        self.loss_fn = nn.MSELoss()

    def training(self, state, action, reward):
        q = self.model1(state)[action]
        loss = self.loss_fn(q, torch.tensor(reward).float())
        loss.backward()  # TL101
        self.optimizer.step()
        return loss
