"""Fine-tuning a classifier head: the backbone was meant to be frozen."""
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64))
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Classifier()
for p in model.backbone.parameters():
    p.require_grad = False  # TL605
for name, param in model.named_parameters():
    if name.startswith("backbone.0"):
        param.requires_grads = False  # TL605
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
