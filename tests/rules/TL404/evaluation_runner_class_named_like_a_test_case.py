"""A segmentation project's evaluation runner is a class named `Test` that holds the model, a
loader and the criterion (it has an `__init__`, so no test runner collects it). Its epoch puts
the model in eval mode and runs every batch with gradients enabled."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Test:
    def __init__(self, model, data_loader, criterion):
        self.model = model
        self.data_loader = data_loader
        self.criterion = criterion

    def run_epoch(self):
        self.model.eval()
        epoch_loss = 0.0
        for inputs, labels in self.data_loader:
            outputs = self.model(inputs)  # TL404
            epoch_loss += self.criterion(outputs, labels).item()
        return epoch_loss / len(self.data_loader)


model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))
loader = DataLoader(TensorDataset(torch.randn(8, 3, 8, 8), torch.randint(0, 4, (8, 8, 8))), batch_size=4)
optimizer = torch.optim.Adam(model.parameters())
criterion = nn.CrossEntropyLoss()
for epoch in range(2):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    print(Test(model, loader, criterion).run_epoch())
