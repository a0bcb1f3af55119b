"""A model method that runs its layers under `no_grad` itself (a reward for a policy): calling
it in a loop builds no graph."""

import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Dropout(0.1), nn.Linear(32, 1))

    def forward(self, x):
        return self.trunk(x)

    def predict_reward(self, state, action):
        with torch.no_grad():
            self.eval()
            d = self.trunk(torch.cat([state, action], dim=1))
            return -nn.functional.logsigmoid(-d)


discr = Discriminator()
optimizer = torch.optim.Adam(discr.parameters(), lr=1e-3)
for _ in range(5):
    x = torch.randn(16, 6)
    optimizer.zero_grad()
    nn.functional.binary_cross_entropy_with_logits(discr(x), torch.ones(16, 1)).backward()
    optimizer.step()
rewards = [discr.predict_reward(torch.randn(4, 4), torch.randn(4, 2)) for _ in range(8)]
for step in range(8):
    rewards[step] = discr.predict_reward(torch.randn(4, 4), torch.randn(4, 2))
