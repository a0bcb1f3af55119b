"""The same wrapper, but the validation loop keeps dropout on on purpose: it runs the model
twenty times on each batch and averages the samples (Monte-Carlo dropout), inside the epoch
loop."""

import torch
import torch.nn as nn


class Composite(nn.Module):
    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x))


def run(encoder, head, train_loader, val_loader, epochs):
    model = Composite(encoder, head)
    opt = torch.optim.Adam(model.parameters())
    for epoch in range(epochs):
        for x, y in train_loader:
            model.train()
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        with torch.no_grad():
            spread = 0.0
            for x, y in val_loader:
                model.train()
                samples = torch.stack([model(x).softmax(1) for _ in range(20)])  # ok: sampling
                spread += samples.std(0).mean().item()
        print(epoch, spread)
