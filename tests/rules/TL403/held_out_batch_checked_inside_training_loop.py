"""Every 10 iterations the training loop draws one batch from the test loader and reports
the test loss, without switching the batch-norm classifier to eval mode."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

train_loader = DataLoader(TensorDataset(torch.randn(256, 3), torch.randint(0, 4, (256,))), batch_size=32, shuffle=True)
test_loader = DataLoader(TensorDataset(torch.randn(64, 3), torch.randint(0, 4, (64,))), batch_size=32)

classifier = nn.Sequential(nn.Linear(3, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 4))
optimizer = torch.optim.SGD(classifier.parameters(), lr=0.01, momentum=0.9)

for epoch in range(2):
    for i, (points, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = F.cross_entropy(classifier(points), target)
        loss.backward()
        optimizer.step()
        if i % 10 == 0:
            points, target = next(iter(test_loader))
            pred = classifier(points)  # TL403
            print("test loss", F.cross_entropy(pred, target).item())
