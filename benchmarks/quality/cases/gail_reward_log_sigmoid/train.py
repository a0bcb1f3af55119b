import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
discriminator = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(discriminator.parameters(), lr=3e-4)
expert, policy = torch.randn(128, 6) + 1.0, torch.randn(128, 6)
for step in range(20):
    logits = discriminator(torch.cat([expert, policy]))
    labels = torch.cat([torch.ones(128, 1), torch.zeros(128, 1)])
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

with torch.no_grad():
    s = torch.sigmoid(discriminator(policy))
    reward = s.log() - (1 - s).log()
print(reward.mean().item())
