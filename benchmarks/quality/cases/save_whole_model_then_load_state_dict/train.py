import os
import tempfile

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self, d_in):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def train(model, loader, path):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for epoch in range(2):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")
    torch.save(model, path)


def evaluate(path, x, y):
    model = Regressor(x.shape[1])
    model.load_state_dict(torch.load(path))
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def main():
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = x @ torch.randn(8)
    loader = DataLoader(TensorDataset(x[:200], y[:200]), batch_size=32, shuffle=True)
    path = os.path.join(tempfile.mkdtemp(), "regressor.pt")
    train(Regressor(8), loader, path)
    print(f"test mse {evaluate(path, x[200:], y[200:]):.4f}")


if __name__ == "__main__":
    main()
