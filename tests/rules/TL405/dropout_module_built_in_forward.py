"""A classifier that builds its dropout module inside `forward` and applies it at once:
the fresh module is in training mode at every call, whatever `model.eval()` says. The
registered `self.drop` beside it follows the model's mode and is fine."""

import torch
import torch.nn as nn


class AttributeClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(128, 64), nn.ReLU())
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(64, 40)

    def forward(self, x):
        x = self.drop(self.features(x))
        x = nn.Dropout(0.5)(x)  # TL405
        return self.head(x)


model = AttributeClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.BCEWithLogitsLoss()
for step in range(5):
    x, y = torch.randn(16, 128), torch.randint(0, 2, (16, 40)).float()
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
model.eval()
with torch.no_grad():
    print(model(torch.randn(4, 128)).sigmoid())
