"""A small vision model that turns a CNN feature map into tokens for a linear head: the NCHW
map is reshaped to channels-last without a permute."""

import torch
import torch.nn as nn


class PatchHead(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, kernel_size=4, stride=4)
        self.mix = nn.Linear(16, 16)
        self.head = nn.Linear(16, classes)

    def tokens(self, feats: torch.Tensor) -> torch.Tensor:
        n, c, h, w = feats.shape
        grid = feats.reshape(n, h, w, c)
        return grid.reshape(n, h * w, c)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        t = self.tokens(self.stem(images))
        return self.head(torch.relu(self.mix(t)).mean(dim=1))


torch.manual_seed(0)
images = torch.randn(32, 3, 16, 16)
labels = torch.randint(0, 4, (32,))
model = PatchHead(4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for step in range(5):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
