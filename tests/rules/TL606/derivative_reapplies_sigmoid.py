"""A script-level two-layer network: the derivative re-applies sigmoid, and is called on outputs."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)


rng = np.random.default_rng(0)
X = rng.normal(size=(64, 3))
y = (X[:, :1] > 0).astype(float)
W1, b1 = rng.normal(size=(3, 8)), np.zeros(8)
W2, b2 = rng.normal(size=(8, 1)), np.zeros(1)
lr = 0.5

for epoch in range(100):
    z1 = X @ W1 + b1
    a1 = sigmoid(z1)
    z2 = a1 @ W2 + b2
    a2 = sigmoid(z2)
    d2 = (a2 - y) * sigmoid_derivative(a2)  # TL606
    d1 = (d2 @ W2.T) * sigmoid_derivative(a1)  # TL606
    W2 -= lr * a1.T @ d2
    W1 -= lr * X.T @ d1
