"""Silent where a piece is unknown: an imported derivative, an activation passed in as a
parameter, a value that arrives as a parameter, an element of a list."""

import numpy as np
from activations import sigmoid, sigmoid_derivative


def local_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def local_derivative(x):
    s = local_sigmoid(x)
    return s * (1 - s)


class Layer:
    def __init__(self, activation, activation_prime):
        self.activation = activation
        self.activation_prime = activation_prime

    def forward(self, x):
        self.input = x
        self.output = self.activation(x)
        return self.output

    def backward(self, grad):
        return self.activation_prime(self.output) * grad  # ok


def backward(output, grad):
    return grad * local_derivative(output)  # ok: `output` arrives as a parameter


a = sigmoid(np.random.rand(4))
d = sigmoid_derivative(a)  # ok: both imported, bodies unseen
zs, acts = [], []
for W in [np.eye(4)]:
    zs.append(W @ a)
    acts.append(local_sigmoid(zs[-1]))
delta = local_derivative(acts[-1])  # ok: an element of a list
