"""skorch's classifier wrapper around a module ending with a softmax layer, with its default
criterion (an NLL loss: the wrapper takes the log of the probabilities itself), and a second
wrapper given the cross-entropy class for a module that returns raw scores.
"""

import numpy as np
import torch.nn as nn
from skorch import NeuralNetClassifier

X = np.random.rand(200, 8).astype(np.float32)
y = np.random.randint(0, 3, 200).astype(np.int64)


class ProbClassifier(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 3))
        self.norm = nn.Softmax(dim=-1)  # ok: the default criterion gets the log of it

    def forward(self, X):
        return self.norm(self.body(X))


class ScoreClassifier(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def forward(self, X):
        return self.body(X)


probs = NeuralNetClassifier(ProbClassifier, max_epochs=5, lr=0.1)
probs.fit(X, y)
scores = NeuralNetClassifier(ScoreClassifier, criterion=nn.CrossEntropyLoss, max_epochs=5, lr=0.1)
scores.fit(X, y)
