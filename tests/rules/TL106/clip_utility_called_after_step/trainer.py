import torch
import torch.nn as nn

from utils import clip_gradients


class Trainer:
    def __init__(self, model, loader, config):
        self.model = model
        self.loader = loader
        self.config = config
        optimizer_class = getattr(torch.optim, config["optimizer"])
        self.optimizer = optimizer_class(model.parameters(), lr=config["lr"])

    def train(self):
        for x, y in self.loader:
            loss = nn.functional.mse_loss(self.model(x), y)
            self._backward(loss)
            self._logistics()

    def _backward(self, loss):
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def _logistics(self):
        clip_gradients(self.model, self.config)  # TL106


config = {"optimizer": "SGD", "lr": 0.1, "clip_mode": "all", "max_norm": 1.0, "max_value": 0.5}
Trainer(nn.Linear(4, 1), [(torch.randn(8, 4), torch.randn(8, 1))], config).train()
