"""The twin: ReLU and dropout on the hidden layer, dropout on the raw scores of the output
layer, and no softmax: `CrossEntropyLoss` gets unbounded logits."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class NodeClassifier(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(features, 32)
        self.out = nn.Linear(32, classes)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        x = F.dropout(F.relu(self.hidden(x)), training=self.training)
        return self.drop(self.out(x))


model = NodeClassifier(16, 4)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
for epoch in range(200):
    x, y = torch.randn(64, 16), torch.randint(0, 4, (64,))
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
