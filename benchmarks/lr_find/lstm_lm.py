"""An LSTM language model on synthetic token sequences drawn from a sparse Markov chain (each
token has three likely successors), with a step-decay scheduler and gradient clipping.

    python lstm_lm.py [--lr LR] [--epochs N]

The default rate (Adam at 1e-6) is far too low: the loss barely moves.
"""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, LENGTH = 32, 33


def sequences(n: int = 2048) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    successors = torch.randint(0, VOCAB, (VOCAB, 3), generator=g)
    tokens = torch.empty(n, LENGTH, dtype=torch.long)
    tokens[:, 0] = torch.randint(0, VOCAB, (n,), generator=g)
    for t in range(1, LENGTH):
        pick = torch.randint(0, 3, (n,), generator=g)
        noise = torch.rand(n, generator=g) < 0.1
        nxt = successors[tokens[:, t - 1], pick]
        tokens[:, t] = torch.where(noise, torch.randint(0, VOCAB, (n,), generator=g), nxt)
    return tokens


class LanguageModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 64)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.out = nn.Linear(128, VOCAB)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.lstm(self.embed(tokens))
        return self.out(hidden)


def get_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--epochs", type=int, default=20)
    return parser.parse_args()


def main() -> None:
    args = get_args()
    torch.manual_seed(0)
    data = sequences()
    model = LanguageModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)
    for epoch in range(args.epochs):
        order = torch.randperm(len(data))
        total, batches = 0.0, 0
        for start in range(0, len(data), 32):
            batch = data[order[start : start + 32]]
            optimizer.zero_grad()
            logits = model(batch[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += loss.item()
            batches += 1
        print(f"epoch {epoch}: loss {total / batches:.4f}")


if __name__ == "__main__":
    main()
