"""Trains a two-layer pre-LN nn.TransformerEncoder to classify token sequences, with AdamW and warm-up."""

from __future__ import annotations

import torch
from torch import nn

VOCAB = 24
SEQ_LEN = 16
NUM_CLASSES = 3
STEPS = 50
WARMUP = 8
BATCH = 32


def make_sequences(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Class = which of the marker tokens 1, 2, 3 occurs most often in the sequence."""
    tokens = torch.randint(4, VOCAB, (n, SEQ_LEN), generator=g)
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    for i in range(n):
        positions = torch.randperm(SEQ_LEN, generator=g)[:6]
        tokens[i, positions[:4]] = int(labels[i]) + 1
        tokens[i, positions[4:]] = torch.randint(1, 4, (2,), generator=g)
    return tokens, labels


class EncoderClassifier(nn.Module):
    def __init__(self, d_model: int = 32, n_heads: int = 4, n_layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = nn.Parameter(torch.randn(1, SEQ_LEN, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=64, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, NUM_CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens) + self.pos
        h = self.norm(self.encoder(h))
        return self.head(h.mean(dim=1))


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    tokens, labels = make_sequences(512, g)

    model = EncoderClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / WARMUP))
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        idx = torch.randint(0, tokens.shape[0], (BATCH,), generator=g)
        loss = loss_fn(model(tokens[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        final = loss_fn(model(tokens), labels).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
