"""An inference helper builds its network with `.eval()` chained on the construction (then
wraps it in DataParallel); a subclass timing it and a script calling it both run the network
in eval mode, though neither calls `.eval()` itself."""

import torch
import torch.nn as nn


class Body(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))


class Detector:
    def __init__(self, weights: str, cuda: bool) -> None:
        self.weights = weights
        self.cuda = cuda
        self.generate()

    def generate(self) -> None:
        self.net = Body().eval()
        self.net.load_state_dict(torch.load(self.weights))
        if self.cuda:
            self.net = nn.DataParallel(self.net)
            self.net = self.net.cuda()

    def detect(self, image):
        with torch.no_grad():
            return self.net(image)


class TimedDetector(Detector):
    def time_it(self, image, repeats: int):
        with torch.no_grad():
            for _ in range(repeats):
                outputs = self.net(image)
        return outputs


detector = TimedDetector("weights.pth", cuda=False)
for _ in range(3):
    print(detector.detect(torch.randn(1, 3, 16, 16)).shape)
print(detector.time_it(torch.randn(1, 3, 16, 16), 10).shape)
