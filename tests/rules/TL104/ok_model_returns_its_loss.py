"""The twin: the loss the model returns is backpropagated, and in the second loop the scaled
loss is."""

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
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    optimizer.zero_grad()

scaler = torch.amp.GradScaler("cpu")
for step in range(100):
    tokens = torch.randint(0, 100, (8, 16))
    tags = torch.randint(0, 5, (8, 16))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model(tokens, labels=tags)
    scaled = scaler.scale(loss)
    scaled.backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad()
