import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from models import DeepTanhMLP


def main():
    torch.manual_seed(0)
    x = torch.rand(400, 2) * 2 - 1
    y = torch.sin(3 * x[:, :1]) * torch.cos(3 * x[:, 1:])
    loader = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True)
    model = DeepTanhMLP(2, 64, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for epoch in range(2):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: {loss.item():.5f}")


if __name__ == "__main__":
    main()
