"""The usual epoch: `train()` before the training batches, `eval()` before validation; and a
variant that validates first, then switches back to training mode before the batches."""

import torch

from segmentation import get_segmentation_model


class Trainer:
    def __init__(self, loader, val_loader, epochs: int) -> None:
        self.model = get_segmentation_model("deeplabv3")
        self.loader = loader
        self.val_loader = val_loader
        self.epochs = epochs
        self.criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)

    def train(self) -> None:
        for epoch in range(self.epochs):
            self.model.train()
            for images, targets in self.loader:
                loss = self.criterion(self.model(images), targets)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            self.model.eval()  # ok: validation follows
            with torch.no_grad():
                for images, targets in self.val_loader:
                    print(self.criterion(self.model(images), targets).item())

    def train_validating_first(self) -> None:
        for epoch in range(self.epochs):
            self.model.eval()  # ok: validation comes before the batches, then train() again
            with torch.no_grad():
                for images, targets in self.val_loader:
                    print(self.criterion(self.model(images), targets).item())
            self.model.train()
            for images, targets in self.loader:
                loss = self.criterion(self.model(images), targets)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
