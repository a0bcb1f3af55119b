"""An SGD helper updates the parameters and never clears their gradients."""

import torch

X = torch.randn(200, 3)
y = X @ torch.tensor([[1.5], [-2.0], [0.5]])
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05

def sgd_update(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)  # TL603

def main():
    for epoch in range(2):
        for i in range(0, 200, 20):
            loss = ((X[i:i + 20] @ w + b - y[i:i + 20]) ** 2).mean()
            loss.backward()
            sgd_update([w, b], lr)

main()
