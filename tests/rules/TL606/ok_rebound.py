"""Silent when the value is rebound between the activation and the derivative."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    return sigmoid(x) * (1 - sigmoid(x))


def dsigmoid(y):
    return y * (1 - y)


z1 = np.random.randn(8, 4)
a1 = sigmoid(z1)
a1 = np.log(a1 / (1 - a1))  # back to the logit
g = sigmoid_derivative(a1)  # ok
z1 = a1 * 1.0
h = sigmoid(np.random.randn(8, 4))
z1 = h
g2 = dsigmoid(z1)  # ok: z1 is now an output
