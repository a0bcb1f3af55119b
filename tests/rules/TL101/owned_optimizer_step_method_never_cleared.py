"""A replay agent owns its optimizer and takes one training step per call of `learn()`: the
step never clears the gradients, and nothing else can, so every update applies the sum of all
earlier ones."""

import random

import torch
import torch.nn as nn


class Agent:
    def __init__(self, n_states, n_actions, lr=1e-3):
        self.q = nn.Sequential(nn.Linear(n_states, 64), nn.ReLU(), nn.Linear(64, n_actions))
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=lr)
        self.loss_fn = nn.MSELoss()
        self.replay = []

    def remember(self, state, action, reward):
        self.replay.append((state, action, reward))

    def learn(self, batch_size=32):
        if len(self.replay) < batch_size:
            return None
        batch = random.sample(self.replay, batch_size)
        states = torch.stack([s for s, _, _ in batch])
        actions = torch.tensor([a for _, a, _ in batch])
        rewards = torch.tensor([r for _, _, r in batch], dtype=torch.float32)
        q = self.q(states).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = self.loss_fn(q, rewards)
        loss.backward()  # TL101
        self.optimizer.step()
        return loss.item()
