"""Trains a character-level LSTM language model (embedding + LSTM + linear) on synthetic text."""

from __future__ import annotations

import torch
from torch import nn

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "park", "and", "then", "slept"]
CHUNK = 32
STEPS = 40
BATCH = 16


def make_text(n_words: int, g: torch.Generator) -> str:
    picks = torch.randint(0, len(WORDS), (n_words,), generator=g)
    return " ".join(WORDS[int(i)] for i in picks) + " "


class CharLM(nn.Module):
    def __init__(self, vocab: int, emb: int = 16, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.embed(tokens))
        return self.out(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    text = make_text(3000, g)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    vocab = len(chars)

    model = CharLM(vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()

    for step in range(STEPS):
        starts = torch.randint(0, data.numel() - CHUNK - 1, (BATCH,), generator=g)
        window = torch.stack([data[s : s + CHUNK + 1] for s in starts.tolist()])
        inputs, targets = window[:, :-1], window[:, 1:]
        logits = model(inputs)
        loss = loss_fn(logits.reshape(-1, vocab), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    print(f"final loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
