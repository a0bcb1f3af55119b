"""A wrapper model is handed its encoder and head by its caller, so its layers are not in sight.
The code relies on its training mode (`model.train()` before each training step), and the
validation loop, after `model.eval()`, switches training mode on again before each forward:
validation runs with whatever dropout or batch norm the parts hold in training behaviour.
"""

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
        model.eval()
        with torch.no_grad():
            hits = 0
            for x, y in val_loader:
                model.train()
                hits += (model(x).argmax(1) == y).sum().item()  # TL403
        print(epoch, hits)
