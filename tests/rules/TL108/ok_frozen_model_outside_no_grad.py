"""The twin: the frozen language model keeps `requires_grad_(False)` and runs with gradients on,
so the loss reaches the adapter through it; a frozen encoder before the trained head may stay
under `no_grad`, and a target computed under `no_grad` is subtracted from a live prediction."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Captioner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(64, 64)
        self.adapter = nn.Linear(64, 32)
        self.language_model = nn.Sequential(nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 100))
        self.language_model.requires_grad_(False)
        self.encoder.requires_grad_(False)


def compute_loss(model: Captioner, images, tokens):
    with torch.no_grad():
        features = model.encoder(images)
    logits = model.language_model(model.adapter(features))
    return F.cross_entropy(logits, tokens)


model = Captioner()
target_net = nn.Linear(64, 1)
value_net = nn.Linear(64, 1)
optimizer = torch.optim.AdamW(list(model.adapter.parameters()) + list(value_net.parameters()), lr=1e-4)
for step in range(100):
    images = torch.randn(8, 64)
    tokens = torch.randint(0, 100, (8,))
    with torch.no_grad():
        target = 0.99 * target_net(images) + 1.0
    loss = compute_loss(model, images, tokens) + F.mse_loss(value_net(images), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
