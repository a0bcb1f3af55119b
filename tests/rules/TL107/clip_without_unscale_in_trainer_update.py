"""A trainer whose caller runs the backward of `trainer.scale(loss)`: its `update()` clips and
then steps through the scaler, and nothing in the project ever unscales the gradients."""
import torch
import torch.nn as nn
from torch.cuda.amp import GradScaler


class Trainer(nn.Module):
    def __init__(self, model: nn.Module, lr: float = 1e-4, max_grad_norm: float = 1.0) -> None:
        super().__init__()
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.scaler = GradScaler()
        self.max_grad_norm = max_grad_norm

    def forward(self, x):
        with torch.autocast("cuda"):
            loss = self.model(x).mean()
        return self.scaler.scale(loss)

    def update(self):
        scaler = self.scaler
        nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)  # TL107
        scaler.step(self.optimizer)
        scaler.update()
        self.optimizer.zero_grad()


def train(trainer: Trainer, loader) -> None:
    for x in loader:
        loss = trainer(x)
        loss.backward()
        trainer.update()
