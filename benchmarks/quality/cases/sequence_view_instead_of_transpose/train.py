"""A 1-D convolutional classifier over (batch, time, features) sequences: the features are
moved to the channel axis with `view`, which relabels the axes instead of swapping them."""

import torch
import torch.nn as nn


class SeqClassifier(nn.Module):
    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(features, 32, kernel_size=3, padding=1)
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, feats = x.shape
        x = x.view(batch, feats, steps)
        h = torch.relu(self.conv(x))
        return self.head(h.mean(dim=2))


torch.manual_seed(0)
inputs = torch.randn(64, 20, 6)
labels = (inputs[:, :, 0].mean(dim=1) > 0).long()
model = SeqClassifier(6, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
for epoch in range(3):
    for i in range(0, 64, 16):
        optimizer.zero_grad()
        loss = criterion(model(inputs[i : i + 16]), labels[i : i + 16])
        loss.backward()
        optimizer.step()
