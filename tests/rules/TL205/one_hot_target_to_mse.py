"""MSELoss against one-hot encoded class labels: a classification trained as regression."""

import torch
import torch.nn as nn
import torch.nn.functional as F

model = nn.Linear(10, 5)
criterion = nn.MSELoss()
x, y = torch.randn(8, 10), torch.randn(8)
labels = torch.randint(0, 5, (8,))
loss = criterion(model(x), F.one_hot(labels, 5).float())  # TL205
