"""The loss gets the raw logits; softmax is taken afterwards only to compute the accuracy."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 3)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(4, 10), torch.randint(0, 3, (4,))
logits = model(x)
loss = criterion(logits, y)
probs = F.softmax(logits, dim=1)
acc = (probs.argmax(1) == y).float().mean()
