"""A trainer accumulates gradients over a group of batches: each step starts a fresh list,
appends every batch's output dict (whose `"loss"` it differentiates), steps the optimizer and
hands that step's outputs to its callbacks. The list holds one step's outputs and is made anew
at the next step, so no graph outlives its step."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Trainer:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        self.callbacks: list = []

    def batch_outputs(self, batch) -> dict:
        x, y = batch
        return {"loss": F.mse_loss(self.model(x), y)}

    def train_epoch(self, batch_groups) -> None:
        for batch_group in batch_groups:
            self.optimizer.zero_grad()
            batch_group_outputs = []
            for batch in batch_group:
                batch_outputs = self.batch_outputs(batch)
                batch_group_outputs.append(batch_outputs)
                loss = batch_outputs["loss"] / len(batch_group)
                loss.backward()
            self.optimizer.step()
            for callback in self.callbacks:
                callback(batch_group_outputs)


groups = [[(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(4)] for _ in range(10)]
Trainer(nn.Linear(4, 1)).train_epoch(groups)
