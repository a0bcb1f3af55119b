"""A recommender base class that owns the loss: BCEWithLogitsLoss by default, applied by its
shared `fit` loop to what each subclass's `forward` returns.
"""

import torch
import torch.nn as nn


class PairwiseRecommender(nn.Module):
    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr
        self.criterion = nn.BCEWithLogitsLoss()

    def fit(self, loader, epochs=1):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        for _ in range(epochs):
            for users, items, clicked in loader:
                opt.zero_grad()
                loss = self.criterion(self(users, items), clicked.float())
                loss.backward()
                opt.step()
