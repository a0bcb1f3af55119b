"""A detector wrapped with its loss (`ModelWithLoss`, whose forward runs the model and returns
the losses) is validated after `model.eval()`, but only the batch transfer sits under
`torch.no_grad()`: the forward builds a graph for every validation batch."""

import torch
import torch.nn as nn


class ModelWithLoss(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.criterion = nn.SmoothL1Loss()

    def forward(self, imgs, targets):
        return self.criterion(self.model(imgs), targets)


def main(train_loader, val_loader, epochs=2):
    model = ModelWithLoss(nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Linear(8, 4)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for epoch in range(epochs):
        model.train()
        for imgs, targets in train_loader:
            optimizer.zero_grad()
            loss = model(imgs, targets)
            loss.backward()
            optimizer.step()
        model.eval()
        total = 0.0
        for imgs, targets in val_loader:
            with torch.no_grad():
                imgs = imgs.cuda()
            loss = model(imgs, targets)  # TL404
            total += loss.item()
