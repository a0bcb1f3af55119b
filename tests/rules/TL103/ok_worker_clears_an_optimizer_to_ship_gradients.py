"""An asynchronous worker that keeps a local optimizer only to clear gradients: it reads them
by hand and ships them to the process that steps the shared model. The other `step()` is the
environment's."""

import torch
import torch.nn as nn


class Worker:
    def __init__(self, env, queue) -> None:
        self.env = env
        self.queue = queue
        self.local_model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
        self.local_optimizer = torch.optim.Adam(self.local_model.parameters(), lr=0.0)

    def run_episode(self):
        state, done, log_probs, rewards = self.env.reset(), False, [], []
        while not done:
            dist = torch.distributions.Categorical(logits=self.local_model(torch.as_tensor(state)))
            action = dist.sample()
            log_probs.append(dist.log_prob(action))
            state, reward, done = self.env.step(action.item())
            rewards.append(reward)
        loss = -(torch.stack(log_probs) * torch.tensor(rewards)).sum()
        self.local_optimizer.zero_grad()
        loss.backward()
        self.queue.put([p.grad.clone() for p in self.local_model.parameters()])
