"""A trainer's `_train_batch` steps each optimizer through the GradScaler and leaves
`scaler.update()` to its training loop, which calls it once the batch is done. Its micro-batch
backward runs on `cast(torch.Tensor, scaler.scale(loss))`, rebound under the same flag."""

from typing import cast

import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer
        self.scaler = torch.cuda.amp.GradScaler()

    def _train_microbatch(self, x, y, use_grad_scaling):
        loss = nn.functional.mse_loss(self.model(x), y)
        if use_grad_scaling:
            loss = cast(torch.Tensor, self.scaler.scale(loss))
        loss.backward()

    def _train_batch(self, batches, use_grad_scaling):
        self.optimizer.zero_grad()
        for x, y in batches:
            self._train_microbatch(x, y, use_grad_scaling)
        if use_grad_scaling:
            self.scaler.step(self.optimizer)
        else:
            self.optimizer.step()

    def fit(self, loader, use_grad_scaling=True):
        for batches in loader:
            self._train_batch(batches, use_grad_scaling)
            if use_grad_scaling:
                self.scaler.update()


model = nn.Linear(4, 1)
trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1))
trainer.fit([[(torch.randn(2, 4), torch.randn(2, 1))] * 2] * 3)
