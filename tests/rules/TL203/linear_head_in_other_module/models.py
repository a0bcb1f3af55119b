import torch
import torch.nn as nn

class ClickModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, items):
        return self.head(torch.relu(self.proj(items))).squeeze(-1)
