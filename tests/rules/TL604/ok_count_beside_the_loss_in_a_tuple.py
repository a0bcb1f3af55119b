"""A sequence-labelling trainer: the model's `forward_loss` may return `(loss, token_count)`,
and the loop adds the count up to average the loss over tokens. `loss[1]` is that count; the
loss itself is `loss[0]`, backpropagated and kept only as `.item()`."""

import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 5)

    def forward_loss(self, batch):
        x, y = batch
        scores = self.proj(x)
        return nn.functional.cross_entropy(scores, y, reduction="sum"), len(y)


model = Tagger()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
batches = [(torch.randn(6, 8), torch.randint(0, 5, (6,))) for _ in range(4)]
for epoch in range(2):
    train_loss = 0.0
    average_over = 0
    for batch in batches:
        optimizer.zero_grad()
        loss = model.forward_loss(batch)
        if isinstance(loss, tuple):
            average_over += loss[1]
            loss = loss[0]
        loss.backward()
        optimizer.step()
        train_loss += loss.item()
    print(train_loss / average_over)
