"""A training engine splits one update into two methods: `forward_backward` accumulates the
gradients of every micro-batch, and `optimizer_step` applies them. The training function picks
the engine by name and calls both in turn."""

from typing import Iterable, List

import torch
import torch.nn as nn


class Engine:
    def __init__(self, model: nn.Module, lr: float = 1e-4) -> None:
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.loss_fn = nn.MSELoss()

    def optimizer_zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def forward_backward(self, micro_batches: Iterable, forward_only: bool = False) -> List[float]:
        losses = []
        for x, y in micro_batches:
            loss = self.loss_fn(self.model(x), y)
            if not forward_only:
                loss.backward()
            losses.append(loss.item())
        return losses

    def optimizer_step(self) -> float:
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        if torch.isfinite(norm):
            self.optimizer.step()
        else:
            self.optimizer.zero_grad()
        return norm.item()


ENGINES = {"default": Engine}


def train(model: nn.Module, loader: Iterable, kind: str = "default") -> None:
    engine = ENGINES[kind](model)  # (the engine's class is picked by name)
    for micro_batches in loader:
        engine.optimizer_zero_grad()
        engine.forward_backward(micro_batches)
        engine.optimizer_step()
