"""A trainer method turns the logits into probabilities a line earlier (for its accuracy) and gives
those to the CrossEntropyLoss.
"""

import torch
import torch.nn as nn

class Trainer:
    def __init__(self, model):
        self.model = model
        self.criterion = nn.CrossEntropyLoss()

    def step(self, x, y):
        logits = self.model(x)
        probs = logits.softmax(dim=-1)
        loss = self.criterion(probs, y)  # TL201
        return loss, (probs.argmax(-1) == y).float().mean()

Trainer(nn.Linear(4, 3)).step(torch.randn(2, 4), torch.tensor([0, 1]))
