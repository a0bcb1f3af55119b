"""Code half ported: a scorer keeps the model its constructor is given, and nothing in sight
builds a scorer (its user decides the model's mode); a trainer's evaluation starts with
`raise NotImplementedError`, so its loop never runs."""

import torch
import torch.nn as nn


class Translator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 16), nn.Dropout(0.1))

    def forward(self, x):
        return self.encoder(x)


class Scorer:
    def __init__(self, model: Translator) -> None:
        self.model = model

    def score(self, batches):
        with torch.no_grad():
            return [self.model(x).sum().item() for x in batches]


class Trainer:
    def __init__(self) -> None:
        self.model = Translator()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def fit(self, batches) -> None:
        for x in batches:
            loss = self.model(x).pow(2).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def evaluate(self, batches):
        raise NotImplementedError("evaluation is not ported yet")
        with torch.no_grad():
            return [self.model(x).sum().item() for x in batches]


trainer = Trainer()
trainer.fit([torch.randn(4, 16) for _ in range(10)])
