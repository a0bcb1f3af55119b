"""forward() delegates to an _encode() method that calls F.dropout2d without passing training."""

import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        return self._encode(x)

    def _encode(self, x):
        return F.dropout2d(self.fc(x), 0.1)  # TL405
