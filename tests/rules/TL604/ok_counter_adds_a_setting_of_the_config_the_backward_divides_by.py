"""The backward divides by `self.config.accumulation_steps`; the example counter adds
`self.config.batch_size`, another field of the same settings object: a number, not the loss."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Settings:
    batch_size: int = 8
    accumulation_steps: int = 2


class Trainer:
    def __init__(self, model: nn.Module, config: Settings) -> None:
        self.model = model
        self.config = config
        self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def train(self, steps: int) -> None:
        self.example_counter = 0
        for step in range(steps):
            for _ in range(self.config.accumulation_steps):
                x, y = torch.randn(self.config.batch_size, 4), torch.randn(self.config.batch_size, 1)
                loss = F.mse_loss(self.model(x), y)
                (loss / self.config.accumulation_steps).backward()
            self.opt.step()
            self.opt.zero_grad()
            self.example_counter += self.config.batch_size


Trainer(nn.Linear(4, 1), Settings()).train(10)
