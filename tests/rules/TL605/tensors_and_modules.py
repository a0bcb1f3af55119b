import torch
import torch.nn as nn

w = torch.randn(10, 1)
w.requries_grad = True  # TL605
b = nn.Parameter(torch.zeros(1))
b.require_grad = True  # TL605
encoder = nn.LSTM(16, 32)
encoder.require_grad = False  # TL605


def train(x, y):
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
