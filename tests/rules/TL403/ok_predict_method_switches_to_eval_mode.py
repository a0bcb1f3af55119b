"""`predict` that switches to eval mode itself; a module without dropout or batch norm; a
plain (non-module) predictor class."""

import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab: int, labels: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(64, labels)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(tokens)))

    @torch.no_grad()
    def predict(self, tokens: torch.Tensor) -> torch.Tensor:
        self.eval()
        return self(tokens).argmax(-1)


class Linear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self(x).argmax(-1)


class Predictor:
    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).argmax(-1)


class Ranker(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 2)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self(x).argmax(-1)


def rank(weights: str, x: torch.Tensor) -> torch.Tensor:
    ranker = Ranker()
    ranker.load_state_dict(torch.load(weights))
    ranker.eval()
    return ranker.predict(x)
