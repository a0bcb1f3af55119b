"""An nn.Sequential classifier ending in nn.LogSoftmax, trained with CrossEntropyLoss (which takes
raw logits; the pair for log-probabilities is NLLLoss).
"""

import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(10, 3), nn.LogSoftmax(dim=1))  # TL201
criterion = nn.CrossEntropyLoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
