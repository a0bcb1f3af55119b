"""Trains a bag-of-embeddings text classifier (nn.Embedding with padding_idx, masked mean pooling, dropout)."""

from __future__ import annotations

import torch
from torch import nn

PAD = 0
VOCAB = 60
MAX_LEN = 20
NUM_CLASSES = 3
STEPS = 50
BATCH = 32


def make_reviews(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Variable-length token lists padded with PAD; each class has its own cue words (ids 1-15)."""
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    lengths = torch.randint(5, MAX_LEN + 1, (n,), generator=g)
    tokens = torch.full((n, MAX_LEN), PAD, dtype=torch.long)
    for i in range(n):
        length = int(lengths[i])
        row = torch.randint(16, VOCAB, (length,), generator=g)
        cues = 1 + 5 * int(labels[i]) + torch.randint(0, 5, (2,), generator=g)
        row[torch.randperm(length, generator=g)[:2]] = cues
        tokens[i, :length] = row
    labels[torch.rand(n, generator=g) < 0.01] = -1  # reviews without a rating
    return tokens, labels


class BagClassifier(nn.Module):
    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, dim, padding_idx=PAD)
        self.dropout = nn.Dropout(0.1)
        self.hidden = nn.Linear(dim, dim)
        self.act = nn.ReLU()
        self.out = nn.Linear(dim, NUM_CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = (tokens != PAD).unsqueeze(-1).float()
        summed = (self.embed(tokens) * mask).sum(dim=1)
        pooled = summed / mask.sum(dim=1).clamp(min=1.0)
        return self.out(self.act(self.hidden(self.dropout(pooled))))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    tokens, labels = make_reviews(800, g)

    model = BagClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        idx = torch.randint(0, tokens.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(tokens[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(tokens), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
