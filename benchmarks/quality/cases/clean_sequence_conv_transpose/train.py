"""The same sequence classifier written correctly: the features move to the channel axis with
`transpose`, the attention heads are split with `view` (a split, not a reordering)."""

import torch
import torch.nn as nn


class SeqClassifier(nn.Module):
    def __init__(self, features: int, classes: int, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.conv = nn.Conv1d(features, 32, kernel_size=3, padding=1)
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, feats = x.shape
        h = torch.relu(self.conv(x.transpose(1, 2)))  # (B, 32, T)
        h = h.transpose(1, 2)  # (B, T, 32)
        split = h.reshape(batch, steps, self.heads, 32 // self.heads)
        return self.head(split.flatten(2).mean(dim=1))


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
