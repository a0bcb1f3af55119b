"""A reinforcement-learning library wraps each optimizer: `optim.step(loss)` clears the
gradients, backpropagates the loss and steps. An update that calls `step(actor_loss)` on such
wrappers, beside an ordinary optimizer cleared before its backward, clears everything it steps."""

import torch
import torch.nn as nn


class Optimizer:
    def __init__(self, params):
        self._optim = torch.optim.Adam(params, lr=1e-3)

    def step(self, loss, retain_graph=False):
        self._optim.zero_grad()
        loss.backward(retain_graph=retain_graph)
        self._optim.step()


class CQL:
    def __init__(self):
        self.actor = nn.Linear(4, 2)
        self.critic = nn.Linear(6, 1)
        self.log_alpha = nn.Parameter(torch.zeros(1))
        self.policy_optim = Optimizer(self.actor.parameters())
        self.critic_optim = Optimizer(self.critic.parameters())
        self.alpha_optim = torch.optim.Adam([self.log_alpha], lr=1e-3)

    def update(self, obs, act):
        actor_loss = -self.critic(torch.cat([obs, self.actor(obs)], 1)).mean()
        self.policy_optim.step(actor_loss)
        self.alpha_optim.zero_grad()
        alpha_loss = -(self.log_alpha.exp() * actor_loss.detach())
        alpha_loss.backward()
        self.alpha_optim.step()
        critic_loss = self.critic(torch.cat([obs, act], 1)).pow(2).mean()
        self.critic_optim.step(critic_loss)


agent = CQL()
for step in range(10):
    agent.update(torch.randn(8, 4), torch.randn(8, 2))
