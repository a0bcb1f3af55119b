"""A recommender trainer: the model returns one loss or a tuple of loss terms, the step
differentiates their sum and keeps the terms themselves in a list for the epoch's report,
so every batch's graph stays alive until the epoch ends."""

import torch
import torch.nn as nn


class Trainer:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def _train_epoch(self, train_data):
        self.model.train()
        losses_list = []
        for interaction in train_data:
            self.optimizer.zero_grad()
            losses = self.model.calculate_loss(interaction)
            loss = sum(losses) if isinstance(losses, tuple) else losses
            loss.backward()
            self.optimizer.step()
            losses_list.append(losses)  # TL604
        return losses_list
