"""The popular "network in a class" shape: outputs kept on `self` by `feedforward`, a
placeholder set in `__init__`, and a derivative that re-applies sigmoid."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(x):
    return sigmoid(x) * (1 - sigmoid(x))


class NeuralNetwork:
    def __init__(self, x, y):
        self.input = x
        self.weights1 = np.random.rand(x.shape[1], 4)
        self.weights2 = np.random.rand(4, 1)
        self.y = y
        self.output = np.zeros(y.shape)

    def feedforward(self):
        self.layer1 = sigmoid(np.dot(self.input, self.weights1))
        self.output = sigmoid(np.dot(self.layer1, self.weights2))

    def backprop(self):
        delta2 = 2 * (self.y - self.output) * sigmoid_derivative(self.output)  # TL606
        delta1 = np.dot(delta2, self.weights2.T) * sigmoid_derivative(self.layer1)  # TL606
        self.weights2 += np.dot(self.layer1.T, delta2)
        self.weights1 += np.dot(self.input.T, delta1)
