"""A module's `predict` (through a helper method) and `infer` run its own forward without
switching to eval mode; the module has dropout."""

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
    def predict(self, sentences: list) -> list:
        return [self._predict_one(s) for s in sentences]

    def _predict_one(self, tokens: torch.Tensor) -> int:
        logits = self(tokens.unsqueeze(0))  # TL403
        return int(logits.argmax(-1)[0, 0])

    def infer(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.forward(tokens).softmax(-1)  # TL403
