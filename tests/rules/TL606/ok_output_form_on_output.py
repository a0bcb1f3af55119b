"""Correct: derivatives written for the output, given the output; the inline output forms."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def dsigmoid(y):
    return y * (1 - y)


def dtanh(y):
    return 1 - y**2


X = np.random.rand(16, 2)
y = np.random.rand(16, 1)
W1, W2 = np.random.rand(2, 4), np.random.rand(4, 1)
for _ in range(1000):
    h = np.tanh(X.dot(W1))
    o = sigmoid(h.dot(W2))
    e = y - o
    W2 += h.T.dot(e * dsigmoid(o)) * 0.1  # ok
    W1 += X.T.dot(e.dot(W2.T) * dtanh(h)) * 0.1  # ok
    d_out = e * o * (1 - o)  # ok
    d_hidden = d_out.dot(W2.T) * (1 - h**2)  # ok
