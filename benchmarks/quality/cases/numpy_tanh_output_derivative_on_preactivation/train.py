"""A NumPy regression network with a tanh hidden layer: the derivative is written for the tanh
output but is given the pre-activation."""

import numpy as np


def dtanh(y):
    """Derivative of tanh, from its output."""
    return 1.0 - y**2


def train(X, t, hidden=16, lr=0.05, epochs=300, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.normal(scale=0.5, size=(X.shape[1], hidden))
    b1 = np.zeros(hidden)
    W2 = rng.normal(scale=0.5, size=(hidden, 1))
    b2 = np.zeros(1)
    n = X.shape[0]
    for epoch in range(epochs):
        z1 = X @ W1 + b1
        h = np.tanh(z1)
        pred = h @ W2 + b2
        err = (pred - t) / n
        grad_W2 = h.T @ err
        grad_b2 = err.sum(axis=0)
        delta = (err @ W2.T) * dtanh(z1)
        grad_W1 = X.T @ delta
        grad_b1 = delta.sum(axis=0)
        W1 -= lr * grad_W1
        b1 -= lr * grad_b1
        W2 -= lr * grad_W2
        b2 -= lr * grad_b2
    return W1, b1, W2, b2


rng = np.random.default_rng(1)
X = rng.uniform(-2, 2, size=(256, 2))
t = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
params = train(X, t)
print("trained", [p.shape for p in params])
