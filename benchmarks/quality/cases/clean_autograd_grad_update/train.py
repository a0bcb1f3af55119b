"""Functional two-layer network updated with torch.autograd.grad (no .grad buffers)."""
import torch


def init_params(d_in, d_hidden, d_out, gen):
    return [
        (torch.randn(d_in, d_hidden, generator=gen) * (2.0 / d_in) ** 0.5).requires_grad_(),
        torch.zeros(d_hidden, requires_grad=True),
        (torch.randn(d_hidden, d_out, generator=gen) * (1.0 / d_hidden) ** 0.5).requires_grad_(),
        torch.zeros(d_out, requires_grad=True),
    ]


def forward(params, x):
    w1, b1, w2, b2 = params
    return torch.relu(x @ w1 + b1) @ w2 + b2


def main():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=gen)
    y = torch.sin(x[:, :1]) + x[:, 1:2] ** 2
    params = init_params(4, 32, 1, gen)
    lr = 0.05
    for epoch in range(2):
        for i in range(0, 256, 32):
            pred = forward(params, x[i:i + 32])
            loss = torch.nn.functional.mse_loss(pred, y[i:i + 32])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.sub_(lr * g)
        print(f"epoch {epoch}: {loss.item():.4f}")


if __name__ == "__main__":
    main()
