"""Linear regression with hand-written SGD, the textbook way."""
import torch

torch.manual_seed(0)
n = 200
X = torch.randn(n, 3)
y = X @ torch.tensor([[2.0], [-1.0], [0.5]]) + 0.3 + 0.05 * torch.randn(n, 1)

w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.1
batch_size = 20


def squared_loss(pred, target):
    return ((pred - target) ** 2).mean()


for epoch in range(2):
    perm = torch.randperm(n)
    epoch_loss = 0.0
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        loss = squared_loss(X[idx] @ w + b, y[idx])
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad = None
        epoch_loss += loss.item()
    print(f"epoch {epoch}: loss {epoch_loss / (n // batch_size):.4f}")
