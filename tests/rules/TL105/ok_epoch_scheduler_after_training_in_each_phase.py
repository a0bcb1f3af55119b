"""The fixed phased run: each phase trains first, then steps its own scheduler."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=16, shuffle=True)


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
warm_optimizer = torch.optim.Adam(model[2].parameters(), lr=1e-3)
joint_optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
warm_scheduler = torch.optim.lr_scheduler.StepLR(warm_optimizer, step_size=5, gamma=0.1)
joint_scheduler = torch.optim.lr_scheduler.StepLR(joint_optimizer, step_size=5, gamma=0.1)

for epoch in range(10):
    if epoch < 3:
        train(model, loader, warm_optimizer)
        warm_scheduler.step()
    else:
        train(model, loader, joint_optimizer)
        joint_scheduler.step()
