"""One helper computes the loss and backpropagates unless told not to; validation calls it
under no_grad with do_backward=False, so no backward runs there."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model: nn.Module, train_loader: DataLoader, val_loader: DataLoader) -> None:
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        self.loss_fn = nn.CrossEntropyLoss()

    def _loss_and_backward(self, batch, do_backward=True):
        x, y = batch
        loss = self.loss_fn(self.model(x), y)
        if do_backward:
            loss.backward()
        return loss

    def training_step(self, batch):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self._loss_and_backward(batch)
        self.optimizer.step()
        return loss.item()

    def validation_step(self, batch):
        self.model.eval()
        with torch.no_grad():
            loss = self._loss_and_backward(batch, do_backward=False)
        return loss.item()

    def fit(self, epochs: int) -> None:
        for _ in range(epochs):
            for step, batch in enumerate(self.train_loader):
                self.training_step(batch)
                if step % 4 == 0:  # (validation inside the training loop)
                    for val_batch in self.val_loader:
                        self.validation_step(val_batch)


if __name__ == "__main__":
    data = TensorDataset(torch.randn(64, 8), torch.randint(0, 3, (64,)))
    Trainer(nn.Linear(8, 3), DataLoader(data, batch_size=8, shuffle=True), DataLoader(data, batch_size=8)).fit(2)
