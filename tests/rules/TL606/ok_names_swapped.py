"""Names do not decide: here `a1` is the pre-activation and `z1` the output."""

import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, n_out):
        self.W1 = np.random.randn(n_hidden, n_in)
        self.W2 = np.random.randn(n_out, n_hidden)

    def tanh(self, x):
        return np.tanh(x)

    def tanh_derivative(self, x):
        return 1 - np.tanh(x) ** 2

    def forward(self, x):
        self.a1 = self.W1 @ x
        self.z1 = self.tanh(self.a1)
        self.z2 = self.W2 @ self.z1
        return self.z2

    def backward(self, x, y, lr):
        dz2 = self.z2 - y
        dz1 = (self.W2.T @ dz2) * self.tanh_derivative(self.a1)  # ok
        self.W2 -= lr * dz2 @ self.z1.T
        self.W1 -= lr * dz1 @ x.T
