"""A correct from-scratch NumPy classifier: each derivative form gets the value it is written
for (the output form on outputs, the function that applies sigmoid on pre-activations)."""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)


def dtanh(y):
    return 1 - y**2


class MLP:
    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(scale=0.5, size=(n_in, n_hidden))
        self.W2 = rng.normal(scale=0.5, size=(n_hidden, n_hidden))
        self.W3 = rng.normal(scale=0.5, size=(n_hidden, 1))

    def forward(self, X):
        self.z1 = X @ self.W1
        self.a1 = np.tanh(self.z1)
        self.z2 = self.a1 @ self.W2
        self.a2 = sigmoid(self.z2)
        self.out = sigmoid(self.a2 @ self.W3)
        return self.out

    def backward(self, X, y, lr):
        d3 = (self.out - y) * self.out * (1 - self.out)
        d2 = (d3 @ self.W3.T) * sigmoid_prime(self.z2)
        d1 = (d2 @ self.W2.T) * dtanh(self.a1)
        self.W3 -= lr * self.a2.T @ d3
        self.W2 -= lr * self.a1.T @ d2
        self.W1 -= lr * X.T @ d1


rng = np.random.default_rng(2)
X = rng.normal(size=(128, 4))
y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
net = MLP(4, 8)
for epoch in range(200):
    net.forward(X)
    net.backward(X, y, lr=0.5)
print("accuracy:", float(np.mean((net.forward(X) > 0.5) == y)))
