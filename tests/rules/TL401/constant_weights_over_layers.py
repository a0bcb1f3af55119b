"""Every Linear layer's weight is set to the same constant 0.05: all units start identical."""

import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 48)
        self.bn = nn.BatchNorm1d(48)
        self.fc2 = nn.Linear(48, 48)
        self.embed = nn.Embedding(100, 48)
        self.head = nn.Linear(48, 2)

        for layer in (self.fc1, self.fc2, self.head):
            nn.init.constant_(layer.weight, 0.05)  # TL401
            nn.init.zeros_(layer.bias)


    def forward(self, x):
        return self.head(F.relu(self.fc2(self.bn(self.fc1(x)))))
