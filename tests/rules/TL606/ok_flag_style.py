"""The `nonlin(x, deriv=True)` style and a two-argument derivative: not a one-parameter
derivative function, left alone."""

import numpy as np


def nonlin(x, deriv=False):
    if deriv:
        return x * (1 - x)
    return 1 / (1 + np.exp(-x))


def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


X = np.random.rand(4, 3)
y = np.random.rand(4, 1)
syn0 = np.random.rand(3, 1)
for _ in range(100):
    l1 = nonlin(X.dot(syn0))
    l1_delta = (y - l1) * nonlin(l1, deriv=True)  # ok
    syn0 += X.T.dot(l1_delta)
Z = X.dot(syn0)
A = nonlin(Z)
dZ = sigmoid_backward(A - y, Z)  # ok
