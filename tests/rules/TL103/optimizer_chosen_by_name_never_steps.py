"""A trainer builds its optimizer from a class name (`getattr(torch.optim, name)`), and its
batch loop runs `backward()` but never steps it: the weights never change."""

import torch


class ImageClassificationTrainer:
    def __init__(self, model, loader, optimizer_cls="SGD", optimizer_kwargs=None, epochs=1):
        self.model = model
        self.loader = loader
        self.epochs = epochs
        self.optimizer = getattr(torch.optim, optimizer_cls)(model.parameters(), **(optimizer_kwargs or {}))

    def training_step(self, batch):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.model(x), y)

    def _train(self):
        for batch in self.loader:
            loss = self.training_step(batch)
            loss.backward()  # TL103

    def fit(self):
        for _ in range(self.epochs):
            self._train()
