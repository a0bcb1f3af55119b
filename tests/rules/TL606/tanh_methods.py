"""Activation and derivative as methods; the tanh derivative re-applies tanh to a tanh output,
and the output-form sigmoid derivative is given the pre-activation."""

import numpy as np


class TwoLayer:
    def __init__(self, n_in, n_hidden):
        self.w1 = np.random.randn(n_in, n_hidden) * 0.1
        self.w2 = np.random.randn(n_hidden, 1) * 0.1
        self.h = None

    def tanh(self, x):
        return np.tanh(x)

    def tanh_prime(self, x):
        return 1 - np.tanh(x) ** 2

    def sigmoid(self, x):
        x = np.clip(x, -500, 500)
        return 1.0 / (1.0 + np.exp(-x))

    def sigmoid_prime(self, y):
        """Derivative from the output."""
        return y * (1.0 - y)

    def forward(self, x):
        self.h = self.tanh(x @ self.w1)
        self.z2 = self.h @ self.w2
        self.out = self.sigmoid(self.z2)
        return self.out

    def backward(self, x, y, lr):
        d_out = (self.out - y) * self.sigmoid_prime(self.z2)  # TL606
        d_hidden = (d_out @ self.w2.T) * self.tanh_prime(self.h)  # TL606
        self.w2 -= lr * self.h.T @ d_out
        self.w1 -= lr * x.T @ d_hidden
