import torch


def make_data(n=128):
    x = torch.randn(n, 2)
    y = ((x[:, 0] + x[:, 1]) > 0).float()
    return x, y


def main():
    torch.manual_seed(0)
    x, y = make_data()
    w = torch.randn(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    for epoch in range(2):
        for i in range(0, len(x), 16):
            logits = x[i:i + 16] @ w + b
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y[i:i + 16])
            loss.backward()
            w = w - lr * w.grad
            b = b - lr * b.grad
            w.grad = None
            b.grad = None
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
