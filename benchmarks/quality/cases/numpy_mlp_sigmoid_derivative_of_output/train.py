"""A from-scratch NumPy network for XOR: the forward pass keeps its outputs on `self`, and the
backward pass gives them to a derivative that applies sigmoid again."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(x):
    return sigmoid(x) * (1.0 - sigmoid(x))


class NeuralNetwork:
    def __init__(self, x, y, hidden=4, seed=0):
        rng = np.random.default_rng(seed)
        self.input = x
        self.y = y
        self.weights1 = rng.normal(size=(x.shape[1], hidden))
        self.weights2 = rng.normal(size=(hidden, 1))
        self.output = np.zeros(y.shape)

    def feedforward(self):
        self.layer1 = sigmoid(self.input @ self.weights1)
        self.output = sigmoid(self.layer1 @ self.weights2)

    def backprop(self, lr):
        d_out = (self.output - self.y) * sigmoid_derivative(self.output)
        d_hidden = (d_out @ self.weights2.T) * sigmoid_derivative(self.layer1)
        self.weights2 -= lr * self.layer1.T @ d_out
        self.weights1 -= lr * self.input.T @ d_hidden


X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)
net = NeuralNetwork(X, Y)
for epoch in range(1500):
    net.feedforward()
    net.backprop(lr=1.0)
print("mean squared error:", float(np.mean((net.output - Y) ** 2)))
