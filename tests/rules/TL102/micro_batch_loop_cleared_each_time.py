"""A trainer whose step backpropagates micro-batches in a loop, clearing before each one: only
the last micro-batch's gradients reach the step after the loop."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self) -> None:
        self.model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3)

    def backward_one(self, batch):
        x, y = batch
        loss = nn.functional.mse_loss(self.model(x), y)
        loss.backward()
        return loss.detach()

    def train_step(self, micro_batches):
        total = 0.0
        for batch in micro_batches:
            self.optimizer.zero_grad(set_to_none=True)  # TL102
            total += self.backward_one(batch)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total


trainer = Trainer()
for _ in range(3):
    trainer.train_step([(torch.randn(4, 8), torch.randn(4, 1)) for _ in range(4)])
