"""An extractive summariser scores sentences with one of two heads (a small transformer, or a
linear classifier for the baseline), each ending in a sigmoid whose probabilities are zeroed
on padding (`* mask.float()`). The model returns `(scores, mask)`; a trainer given the model
unpacks the scores and feeds them to `F.binary_cross_entropy`, which expects probabilities."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class TransformerHead(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d, 2, batch_first=True)
        self.wo = nn.Linear(d, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = self.sigmoid(self.wo(self.layer(x)))
        return scores.squeeze(-1) * mask.float()


class LinearHead(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x).squeeze(-1)) * mask.float()


class Summarizer(nn.Module):
    def __init__(self, baseline: bool) -> None:
        super().__init__()
        self.head = TransformerHead(16)
        if baseline:
            self.head = LinearHead(16)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        return self.head(x, mask), mask


class Trainer:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def train(self, steps: int) -> None:
        for _ in range(steps):
            x, mask = torch.randn(4, 10, 16), torch.ones(4, 10)
            labels = torch.randint(0, 2, (4, 10))
            scores, mask = self.model(x, mask)
            loss = F.binary_cross_entropy(scores, labels.float(), weight=mask)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def train(baseline: bool) -> None:
    Trainer(Summarizer(baseline)).train(10)


def resume(path: str) -> None:
    model = Summarizer(False)
    model.load_state_dict(torch.load(path))
    Trainer(model).train(10)
