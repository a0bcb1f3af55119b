"""A script trains on one tensor of random inputs and evaluates on the same tensor after each
epoch, with gradients on. The tensor is made up, but it is the data: the evaluation loop is an
evaluation, not a warm-up."""

import torch
import torch.nn as nn

X, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
crit = nn.CrossEntropyLoss()
for epoch in range(2):
    model.train()
    for i in range(5):
        opt.zero_grad()
        crit(model(X), y).backward()
        opt.step()
    model.eval()
    correct = 0
    for j in range(2):
        logits = model(X)  # TL404
        correct += (logits.argmax(1) == y).sum().item()
    print(correct)
