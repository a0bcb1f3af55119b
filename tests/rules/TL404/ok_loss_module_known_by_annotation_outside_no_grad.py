from abc import ABC, abstractmethod

import torch
import torch.nn as nn


class BaseTrainer(ABC):
    def __init__(self, model: nn.Module):
        self.model = model

    @abstractmethod
    def validate(self, loader, criterion: nn.Module) -> float:
        """Score the model on `loader`."""
        raise NotImplementedError

    def fit(self, loader, valid_loader, train_criterion: nn.Module, valid_criterion: nn.Module):
        optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        for x, y in loader:
            optimizer.zero_grad()
            train_criterion(self.model(x), y).backward()
            optimizer.step()
        return self.validate(valid_loader, valid_criterion)


class Trainer(BaseTrainer):
    def validate(self, loader, criterion: nn.Module) -> float:
        self.model.eval()
        total = 0.0
        for x, y in loader:
            preds = []
            for step in range(3):  # a rollout: each step feeds the next
                with torch.no_grad():
                    x = self.model(x)
                preds.append(x)
            # the loss module runs on outputs that carry no graph: nothing is recorded
            total += criterion(torch.stack(preds), y).mean().item()
        return total

