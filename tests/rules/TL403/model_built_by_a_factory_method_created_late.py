"""A reconstruction network whose residual blocks are built by a factory method (the dropout
sits in the Sequential it returns), created late by the trainer (an attribute first set to `None`);
the validation step runs it under `no_grad` but in training mode."""

import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.body = self.build_body(dim, dropout)

    def build_body(self, dim: int, dropout: float) -> nn.Sequential:
        layers = [nn.Conv2d(dim, dim, 3, padding=1), nn.ReLU(True)]
        if dropout > 0:
            layers += [nn.Dropout(dropout)]
        layers += [nn.Conv2d(dim, dim, 3, padding=1)]
        return nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)


class Reconstructor(nn.Module):
    def __init__(self, blocks: int = 2) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            self.blocks.append(ResidualBlock(16, dropout=0.5))
        self.head = nn.Conv2d(16, 1, 3, padding=1)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class Trainer:
    def __init__(self) -> None:
        self.net = None
        self.optimizer = None

    def setup(self) -> None:
        self.net = Reconstructor()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)

    def update(self, image, target):
        loss = nn.functional.mse_loss(self.net(image), target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def inference(self, image):
        with torch.no_grad():
            return self.net(image)  # TL403


trainer = Trainer()
trainer.setup()
for step in range(100):
    image = torch.randn(4, 1, 16, 16)
    trainer.update(image, image)
    if step % 10 == 0:
        print(trainer.inference(torch.randn(4, 1, 16, 16)).mean())
