"""A token classifier that returns its loss when given labels (transformers-style): the loop
clips and steps but never backpropagates that loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.out = nn.Linear(32, 5)

    def forward(self, tokens, labels=None):
        scores = self.out(self.embed(tokens))
        if labels is None:
            return scores
        return F.cross_entropy(scores.view(-1, 5), labels.view(-1))


model = Tagger()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
for step in range(100):
    tokens = torch.randint(0, 100, (8, 16))
    tags = torch.randint(0, 5, (8, 16))
    loss = model(tokens, labels=tags)
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()  # TL104
    optimizer.zero_grad()
