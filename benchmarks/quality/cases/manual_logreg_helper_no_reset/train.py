"""Softmax regression trained with a tiny hand-written SGD."""
import torch
import torch.nn.functional as F


def sgd_update(params, lr):
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)


def forward(x, W, b):
    return x @ W + b


def main():
    torch.manual_seed(0)
    n_classes = 3
    x = torch.randn(240, 4)
    y = torch.randint(0, n_classes, (240,))
    x[torch.arange(240), y] += 2.0
    W = torch.zeros(4, n_classes, requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    for epoch in range(2):
        perm = torch.randperm(240)
        for i in range(0, 240, 24):
            idx = perm[i:i + 24]
            loss = F.cross_entropy(forward(x[idx], W, b), y[idx])
            loss.backward()
            sgd_update([W, b], lr=0.1)
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
