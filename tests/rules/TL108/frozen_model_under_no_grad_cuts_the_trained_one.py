"""A trainable adapter feeds a frozen language model whose forward runs under `no_grad`: the
only path from the loss back to the adapter goes through that forward, so nothing trains (a
helper computes the loss, the loop differentiates it)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Captioner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.adapter = nn.Linear(64, 32)
        self.language_model = nn.Sequential(nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 100))
        self.language_model.requires_grad_(False)


def compute_loss(model: Captioner, image_features, tokens):
    prefix = model.adapter(image_features)
    with torch.no_grad():
        logits = model.language_model(prefix)  # TL108
    return F.cross_entropy(logits, tokens)


model = Captioner()
optimizer = torch.optim.AdamW(model.adapter.parameters(), lr=1e-4)
for step in range(100):
    features = torch.randn(8, 64)
    tokens = torch.randint(0, 100, (8,))
    loss = compute_loss(model, features, tokens)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
