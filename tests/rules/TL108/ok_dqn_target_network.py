"""DQN: the target network runs under `torch.no_grad()`; only the policy network is optimised."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

policy_net = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2))
target_net = copy.deepcopy(policy_net)
optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4, amsgrad=True)
gamma = 0.99

for step in range(1000):
    states = torch.randn(32, 4)
    actions = torch.randint(0, 2, (32, 1))
    rewards = torch.randn(32)
    next_states = torch.randn(32, 4)
    q = policy_net(states).gather(1, actions).squeeze(1)
    with torch.no_grad():
        target = rewards + gamma * target_net(next_states).max(dim=1).values  # ok: the target network is not optimised
    loss = F.smooth_l1_loss(q, target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        target_net.load_state_dict(policy_net.state_dict())
