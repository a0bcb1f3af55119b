"""SAC-style critic update: one helper runs the critic, called under `no_grad` for the TD
target and with gradients for the prediction, in the same loss function. The gradient-free
call is part of training (its dropout on purpose, as in DroQ), not an evaluation."""

import torch
import torch.nn as nn


class Critic(nn.Module):
    def __init__(self, obs_dim: int, actions: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 256), nn.Dropout(0.01), nn.LayerNorm(256), nn.ReLU())
        self.head = nn.Linear(256, actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(obs))


class Agent:
    def __init__(self, obs_dim: int, actions: int) -> None:
        self.critic = Critic(obs_dim, actions)
        self.target = Critic(obs_dim, actions)
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=3e-4)

    def _critic_forward(self, obs: torch.Tensor, use_target: bool = False) -> torch.Tensor:
        critic = self.target if use_target else self.critic
        return critic(obs)  # ok: targets and predictions of one training step

    def critic_loss(self, obs, action, reward, next_obs, done, gamma=0.99):
        with torch.no_grad():
            next_q = self._critic_forward(next_obs, use_target=True).max(-1).values
            target = reward + gamma * (1 - done) * next_q
        q = self._critic_forward(obs).gather(1, action[:, None]).squeeze(1)
        return nn.functional.mse_loss(q, target)

    def update(self, batch) -> float:
        loss = self.critic_loss(*batch)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()
