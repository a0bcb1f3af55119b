"""A loss wrapper can squash its predictions before the criterion it is given, behind a
constructor flag. The script builds it with `BCEWithLogitsLoss` and the flag off, so the
criterion receives raw logits."""

import torch
import torch.nn as nn


class CombinedLoss(nn.Module):
    def __init__(self, criterion, sigmoid_predictions=False, sparsity_weight=0.0):
        super().__init__()
        self.criterion = criterion
        self.sigmoid_predictions = sigmoid_predictions
        self.sparsity_weight = sparsity_weight

    def forward(self, out, target, weights=None):
        if self.sigmoid_predictions:
            out = torch.sigmoid(out)
        loss = self.criterion(out, target)
        if weights is not None:
            loss = loss + self.sparsity_weight * weights.abs().sum()
        return loss


model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
sigmoid_outputs = False
loss_function = CombinedLoss(criterion=nn.BCEWithLogitsLoss(), sigmoid_predictions=sigmoid_outputs)

for step in range(10):
    images, edges = torch.randn(4, 3, 32, 32), torch.rand(4, 1, 32, 32).round()
    optimizer.zero_grad()
    loss = loss_function(model(images), edges)
    loss.backward()
    optimizer.step()
