import torch

torch.manual_seed(0)
x = torch.linspace(-1, 1, 100).unsqueeze(1)
y = 2.0 * x - 0.3 + 0.05 * torch.randn_like(x)

weight = torch.randn(1, 1, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)
lr = 0.1

for epoch in range(2):
    for step in range(10):
        idx = torch.randint(0, 100, (16,))
        loss = torch.mean((x[idx] @ weight + bias - y[idx]) ** 2)
        loss.backward()
        with torch.no_grad():
            weight -= lr * weight.grad
            bias -= lr * bias.grad
    print(f"epoch {epoch}: w={weight.item():.3f} b={bias.item():.3f} loss={loss.item():.4f}")
