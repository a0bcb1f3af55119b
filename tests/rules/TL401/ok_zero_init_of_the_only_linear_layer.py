"""A Wide ResNet initialises its modules in a loop: Kaiming for the convolutions, and zeros
for `nn.Linear`, whose only instance is the classifier after the convolutions. Zeroing the
output layer is a known recipe: its units still get different gradients from the loss."""

import torch
import torch.nn as nn


class BasicUnit(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.conv(torch.relu(self.bn(x)))


class WideResNet(nn.Module):
    def __init__(self, depth, labels):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*(BasicUnit(16) for _ in range(depth)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, labels)
        self._initialize()

    def _initialize(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight.data, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.zero_()
                m.bias.data.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


model = WideResNet(4, 10)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(5):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(torch.randn(2, 3, 8, 8)), torch.tensor([0, 1]))
    loss.backward()
    opt.step()
