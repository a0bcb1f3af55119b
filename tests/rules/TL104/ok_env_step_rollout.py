"""REINFORCE on CartPole: `env.step()` in the rollout loop is not an optimizer step; the update
after each episode has its zero_grad, backward and step.
"""

import gymnasium as gym
import torch
import torch.nn as nn

env = gym.make("CartPole-v1")
policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2))
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)

for episode in range(100):
    obs, _ = env.reset()
    log_probs, rewards = [], []
    done = False
    while not done:
        logits = policy(torch.as_tensor(obs, dtype=torch.float32))
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        obs, reward, terminated, truncated, _ = env.step(action.item())  # ok: an environment step, not an optimizer step
        log_probs.append(dist.log_prob(action))
        rewards.append(reward)
        done = terminated or truncated
    returns = torch.tensor([sum(rewards[t:]) for t in range(len(rewards))])
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    loss = -(torch.stack(log_probs) * returns).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
