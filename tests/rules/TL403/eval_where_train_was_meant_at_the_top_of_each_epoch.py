"""A segmentation trainer whose model comes from a factory (its layers out of sight) calls
`self.model.eval()` at the top of each epoch, right before the training batches, where
`self.model.train()` was meant: the network trains in eval mode from the first step."""

import torch

from segmentation import get_segmentation_model


class Trainer:
    def __init__(self, loader, epochs: int) -> None:
        self.model = get_segmentation_model("deeplabv3")
        self.loader = loader
        self.epochs = epochs
        self.criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)

    def train(self) -> None:
        for epoch in range(self.epochs):
            self.model.eval()  # TL403
            for images, targets in self.loader:
                loss = self.criterion(self.model(images), targets)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            torch.save(self.model.state_dict(), f"epoch_{epoch}.pth")
