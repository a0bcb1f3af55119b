"""A Trainer class whose __init__ defaults lr to 1.0 and builds Adam from self.lr."""

import torch
import torch.nn as nn
model = nn.Linear(8, 2)

class Trainer:
    def __init__(self, model, lr=1.0):
        self.lr = lr
        self.optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)  # TL501

Trainer(model)
