"""A graph-convolution-style classifier whose output layer goes through ReLU, dropout and a
softmax before `CrossEntropyLoss`: the softmax is TL201's defect, the ReLU this one's (removing
only the softmax would still leave every negative score clipped to zero)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class NodeClassifier(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(features, 32)
        self.out = nn.Linear(32, classes)

    def forward(self, x):
        x = F.dropout(F.relu(self.hidden(x)), training=self.training)
        x = self.out(x)
        x = F.relu(x)  # TL206
        x = F.dropout(x, training=self.training)
        return F.softmax(x, dim=1)  # TL201


model = NodeClassifier(16, 4)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
for epoch in range(200):
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
