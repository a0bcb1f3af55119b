"""Out of scope: an output fed to the activation again on purpose, and a derivative of a
different activation than the one applied (another mistake, not this rule's)."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)


def dsigmoid(y):
    return y * (1 - y)


z = np.random.randn(5)
a = sigmoid(z)
b = sigmoid(a)
g = sigmoid_derivative(a)  # ok: `a` is also the input of the second sigmoid
t = np.tanh(z)
g2 = sigmoid_derivative(t)  # ok: not a sigmoid output
u = np.random.randn(5)
v = np.tanh(u)
g3 = dsigmoid(u)  # ok: fed to tanh, not to sigmoid
