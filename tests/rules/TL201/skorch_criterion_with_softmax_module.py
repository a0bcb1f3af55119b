"""A scikit-learn style wrapper (skorch) given the module class and `criterion=` the
cross-entropy class: the wrapper feeds the module's output to that criterion, and the module
ends with a softmax layer.
"""

import numpy as np
import torch.nn as nn
from skorch import NeuralNet

X = np.random.rand(200, 8).astype(np.float32)
y = np.random.randint(0, 3, 200).astype(np.int64)


class Classifier(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 3))
        self.norm = nn.Softmax(dim=-1)  # TL201

    def forward(self, X):
        return self.norm(self.body(X))


net = NeuralNet(Classifier, criterion=nn.CrossEntropyLoss, max_epochs=5, lr=0.1)
net.fit(X, y)
