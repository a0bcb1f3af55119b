"""Linear regression with hand-written gradient descent on raw tensors."""
import torch

torch.manual_seed(0)
n, d = 200, 3
X = torch.randn(n, d)
true_w = torch.tensor([[1.5], [-2.0], [0.5]])
y = X @ true_w + 0.7 + 0.05 * torch.randn(n, 1)

w = torch.zeros(d, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05

for epoch in range(2):
    for i in range(0, n, 20):
        xb, yb = X[i:i + 20], y[i:i + 20]
        pred = xb @ w + b
        loss = ((pred - yb) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w += lr * w.grad
            b += lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    print(f"epoch {epoch}: loss {loss.item():.4f}")
