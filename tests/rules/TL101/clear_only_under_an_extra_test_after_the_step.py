"""A trainer that steps every `update_interval` batches clears the gradients after the step
only when the interval is above one: with the default interval of one nothing ever clears
them, and every update applies the sum of all the gradients so far."""

from dataclasses import dataclass

import torch


@dataclass
class TrainerConfig:
    update_interval: int = 1


class Trainer:
    def __init__(self, model, config: TrainerConfig):
        self.model = model
        self.config = config
        self.optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
        self.batches = 0

    def _step(self, source, target):
        self.batches += 1
        loss = self.model(source, target)
        loss.backward()  # TL101
        if self.config.update_interval == 1 or self.batches % self.config.update_interval == 0:
            self.optimizer.step()
            if self.config.update_interval > 1:
                self.optimizer.zero_grad()

    def fit(self, loader, epochs):
        for _ in range(epochs):
            for source, target in loader:
                self._step(source, target)
