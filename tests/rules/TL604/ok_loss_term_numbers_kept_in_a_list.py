"""The fixed trainer keeps numbers: the `.item()` of each term; and a batch count that the
loss is divided by is a number, not a term of the loss."""

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
            n = len(interaction)
            loss = sum(losses) / n if isinstance(losses, tuple) else losses / n
            loss.backward()
            self.optimizer.step()
            terms = losses if isinstance(losses, tuple) else (losses,)
            losses_list.append([t.item() for t in terms])
            losses_list.append(n)
        return losses_list
