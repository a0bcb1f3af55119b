"""A REINFORCE rollout in eval mode whose log-probabilities feed loss.backward(): the graph is
needed.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

policy = nn.Linear(4, 2)
opt = torch.optim.Adam(policy.parameters())
for episode in range(3):
    policy.eval()
    log_probs = []
    for t in range(5):
        log_probs.append(F.log_softmax(policy(torch.randn(1, 4)), -1)[0, 0])
    loss = -torch.stack(log_probs).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
