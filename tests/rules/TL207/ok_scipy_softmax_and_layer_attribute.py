"""scipy's softmax (a different function) and a module calling its own softmax attribute, built
with dim=1.
"""

import torch.nn as nn

from scipy.special import softmax as sp_softmax

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(x)

probs = sp_softmax([1.0, 2.0])
