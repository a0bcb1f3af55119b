import torch.nn as nn
import torch.nn.functional as F

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(16, 32, 3, padding=1)
        self.classifier = nn.Sequential(nn.Linear(32, 6), nn.Sigmoid())

    def forward(self, spec):
        return self.classifier(F.relu(self.conv(spec)).mean(-1))
