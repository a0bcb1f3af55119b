"""A detection repository's backbone file ends in a `def test():` that builds a fresh
backbone from its factory and prints the sizes of the feature maps it returns for a random
image. The same factory's backbone gets pretrained weights and is trained inside the detector,
but this instance gets none: it is a shape check, not an evaluation."""

import torch
import torch.nn as nn


class FPN(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.depth = depth

    def forward(self, x):
        return [self.bn(self.conv(x))]


def FPN50():
    return FPN(50)


class RetinaNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fpn = FPN50()
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return self.head(self.fpn(x)[0])


def test():
    net = FPN50()
    fms = net(torch.randn(1, 3, 60, 30))
    for fm in fms:
        print(fm.size())


model = RetinaNet()
model.fpn.load_state_dict(torch.load("fpn50.pth"))  # ImageNet weights for the backbone
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for step in range(10):
    opt.zero_grad()
    loss = model(torch.randn(2, 3, 16, 16)).pow(2).mean()
    loss.backward()
    opt.step()
