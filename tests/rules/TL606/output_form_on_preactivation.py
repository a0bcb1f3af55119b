"""The inverse mistake: a derivative written for the sigmoid's output, given the pre-activation."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def dsigmoid(y):
    return y * (1 - y)


def train_step(X, y, W1, W2, lr):
    z1 = np.dot(X, W1)
    a1 = sigmoid(z1)
    z2 = np.dot(a1, W2)
    out = sigmoid(z2)
    delta_out = (out - y) * dsigmoid(out)
    delta_hidden = np.dot(delta_out, W2.T) * dsigmoid(z1)  # TL606
    W2 -= lr * np.dot(a1.T, delta_out)
    W1 -= lr * np.dot(X.T, delta_hidden)
    return W1, W2
