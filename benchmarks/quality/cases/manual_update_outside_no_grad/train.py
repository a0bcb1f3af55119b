import torch

torch.manual_seed(0)
# two-layer network written with raw tensors
x = torch.randn(100, 5)
y = torch.sin(x.sum(dim=1, keepdim=True))
W1 = (torch.randn(5, 16) * 0.3).requires_grad_()
W2 = (torch.randn(16, 1) * 0.3).requires_grad_()
params = [W1, W2]
learning_rate = 1e-2

for epoch in range(2):
    for i in range(0, 100, 10):
        h = torch.relu(x[i:i + 10] @ W1)
        loss = ((h @ W2 - y[i:i + 10]) ** 2).mean()
        loss.backward()
        for p in params:
            p -= learning_rate * p.grad
            p.grad = None
    print(epoch, loss.item())
