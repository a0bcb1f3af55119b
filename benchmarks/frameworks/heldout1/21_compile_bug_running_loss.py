"""Plain PyTorch loop with a torch.compile'd MLP on a synthetic regression task."""
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, d_in=8, hidden=64, d_out=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, d_out),
        )

    def forward(self, x):
        return self.net(x)


def get_loader(n=2048, batch_size=64):
    x = torch.randn(n, 8)
    y = torch.stack([x[:, :4].sum(1), (x[:, 4:] ** 2).mean(1)], dim=1)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, drop_last=True)


def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    running_loss = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        preds = model(inputs)
        loss = loss_fn(preds, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss
    return running_loss / len(loader)


def main():
    torch.manual_seed(0)
    model = torch.compile(MLP())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.SmoothL1Loss()
    loader = get_loader()

    for epoch in range(4):
        t0 = time.perf_counter()
        avg_loss = train_one_epoch(model, loader, optimizer, loss_fn)
        print(f"epoch {epoch}: loss={float(avg_loss):.4f} ({time.perf_counter() - t0:.2f}s)")


if __name__ == "__main__":
    main()
