"""PPO: one rollout, then a few optimisation epochs over it; the statistics each epoch returns
go into a list made afresh for every rollout and averaged for logging. The list holds one
update's epochs, never the run's."""

import torch
import torch.nn as nn

policy = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2))
optimizer = torch.optim.Adam(policy.parameters(), lr=3e-4)
ppo_epochs = 4


def ppo_step(observations, actions, advantages, old_log_probs):
    log_probs = torch.distributions.Categorical(logits=policy(observations)).log_prob(actions)
    ratio = (log_probs - old_log_probs).exp()
    loss = -torch.min(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages).mean()
    loss.backward()
    return loss


for update in range(1000):
    rollout = torch.load(f"rollout_{update}.pt")
    stats = []
    for _ in range(ppo_epochs):
        stats.append(ppo_step(*rollout))  # ok: one rollout's epochs
        optimizer.step()
        optimizer.zero_grad()
    print(update, torch.stack([s.detach() for s in stats]).mean().item())
