"""F.dropout with training=True written out: Monte-Carlo dropout on purpose."""

import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        return F.dropout(self.fc(x), 0.5, training=True)  # Monte-Carlo dropout on purpose
