"""Trains a two-layer GRU character language model with embedding, dropout and SGD with Nesterov momentum."""

from __future__ import annotations

import torch
from torch import nn

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi"]
CHUNK = 24
STEPS = 40
BATCH = 24


def make_text(n_words: int, g: torch.Generator) -> str:
    """Pseudo-words of two or three syllables separated by spaces and an occasional full stop."""
    words = []
    for _ in range(n_words):
        k = 2 + int(torch.randint(0, 2, (1,), generator=g))
        picks = torch.randint(0, len(SYLLABLES), (k,), generator=g)
        word = "".join(SYLLABLES[int(i)] for i in picks)
        if float(torch.rand(1, generator=g)) < 0.1:
            word += "."
        words.append(word)
    return " ".join(words) + " "


class GRULM(nn.Module):
    def __init__(self, vocab: int, emb: int = 16, hidden: int = 48) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, num_layers=2, batch_first=True, dropout=0.1)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(self.embed(tokens))
        return self.out(h)


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    text = make_text(2000, g)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    vocab = len(chars)

    model = GRULM(vocab)
    optimizer = torch.optim.SGD([*model.gru.parameters(), *model.out.parameters()], lr=0.5, momentum=0.9, nesterov=True)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    for step in range(STEPS):
        starts = torch.randint(0, data.numel() - CHUNK - 1, (BATCH,), generator=g)
        window = torch.stack([data[s : s + CHUNK + 1] for s in starts.tolist()])
        logits = model(window[:, :-1])
        loss = loss_fn(logits.reshape(-1, vocab), window[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        window = data[: 64 * (CHUNK + 1)].view(64, CHUNK + 1)
        final = loss_fn(model(window[:, :-1]).reshape(-1, vocab), window[:, 1:].reshape(-1)).item()
    print(f"final loss {final:.4f}")


if __name__ == "__main__":
    main()
